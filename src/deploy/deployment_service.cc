#include "deploy/deployment_service.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/executables.h"
#include "service/job_files.h"

namespace stoke::deploy {

namespace fs = std::filesystem;
using service::Principal;

namespace {

constexpr std::string_view kNamespace = "deployments";

// TorchScript files are zip archives; anything else cannot be a model.
Status CheckLooksLikeTorchScript(const std::string& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  if (!in || std::string_view(magic, 4) != std::string_view("PK\x03\x04", 4)) {
    return Status::InvalidArgument("the model is not a TorchScript file (torch.jit.script(model).save(path) writes one)",
                                   field);
  }
  return Status::Ok();
}

Status CopyFile(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(fs::path(to).parent_path(), ec);
  if (ec) return Status::Internal("cannot create " + fs::path(to).parent_path().string() + ": " + ec.message());
  std::string tmp = to + ".tmp";
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) return Status::Internal("cannot copy the model: " + ec.message());
  fs::rename(tmp, to, ec);
  if (ec) return Status::Internal("cannot install the model: " + ec.message());
  return Status::Ok();
}

std::string ShapeArg(const std::vector<int64_t>& shape) {
  std::string out;
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out;
}

std::string Escape(const std::string& label) {
  std::string out;
  for (char c : label) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string_view ReplicaPhaseName(ReplicaPhase phase) {
  switch (phase) {
    case ReplicaPhase::kQueued: return "queued";
    case ReplicaPhase::kStarting: return "starting";
    case ReplicaPhase::kReady: return "ready";
    case ReplicaPhase::kDraining: return "draining";
  }
  return "queued";
}

int DeploymentView::ready() const {
  return static_cast<int>(std::count_if(replicas.begin(), replicas.end(), [&](const Replica& r) {
    return r.phase == ReplicaPhase::kReady && r.version == deployment.version;
  }));
}

DeploymentService::DeploymentService(Deps deps, Options options) : deps_(deps), options_(std::move(options)) {
  if (options_.serve_binary.empty()) options_.serve_binary = FindServeBinary();
}

DeploymentService::~DeploymentService() { Stop(); }

std::string DeploymentService::FindServeBinary() { return FindStokeExecutable("stoke-serve", "STOKE_SERVE_BIN"); }

Status DeploymentService::Start() {
  STOKE_ASSIGN_OR_RETURN(auto stored, deps_.store.List(kNamespace));
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, bytes] : stored) {
      auto d = DecodeDeployment(bytes);
      if (!d) {
        spdlog::error("deployment {}: {}; skipped", name, d.error().ToString());
        continue;
      }
      auto live = std::make_shared<Live>();
      live->d = std::move(*d);
      live->router = std::make_shared<ReplicaRouter>();
      live->autoscaler = Autoscaler(options_.autoscale);
      live->desired = std::clamp(static_cast<int>(live->d.replicas.size()), std::max(1, live->d.spec.replicas.min),
                                 live->d.spec.replicas.max);
      for (const ReplicaRecord& r : live->d.replicas) live->replicas[r.job_id].record = r;
      live_[name] = std::move(live);
    }
    stop_ = false;
  }
  if (options_.tick_ms > 0 && !thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void DeploymentService::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeploymentService::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(options_.tick_ms), [&] { return stop_; });
    if (stop_) break;
    lock.unlock();
    ReconcileOnce();
    lock.lock();
  }
}

void DeploymentService::ReconcileOnce() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, _] : live_) names.push_back(name);
  }
  for (const std::string& name : names) Reconcile(name);
}

Principal DeploymentService::OwnerOf(const Live& live) const { return Principal{live.d.user, false, 0}; }

void DeploymentService::Reconcile(const std::string& name) {
  // 1. Snapshot what to look at (under the lock), 2. look (job states, health: no lock held),
  // 3. apply what was seen and scale (under the lock).
  struct Probe {
    JobId id;
    int port;
    ReplicaPhase phase;
    bool want_stats;
    std::optional<Job> job;
    bool looked = false;  // the job's state is known (job empty = no such job)
    bool healthy = false;
    int64_t batches = -1, batch_rows = -1;
  };
  std::vector<Probe> probes;
  std::shared_ptr<Live> live;
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = live_.find(name);
    if (it == live_.end()) return;
    live = it->second;
    for (auto& [id, r] : live->replicas) {
      bool want_stats = r.phase == ReplicaPhase::kReady && now >= r.next_stats;
      if (want_stats) r.next_stats = now + std::chrono::seconds(1);
      probes.push_back({id, r.record.port, r.phase, want_stats});
    }
  }
  Principal admin{"", true, 0};
  for (Probe& p : probes) {
    auto job = deps_.jobs.Get(admin, p.id);
    if (job) p.job = *job;
    else if (job.error().code() != StatusCode::kNotFound) continue;  // store hiccup: look again next tick
    p.looked = true;
    if (!p.job || p.job->state != JobState::kRunning) continue;
    if (p.phase == ReplicaPhase::kStarting || p.phase == ReplicaPhase::kQueued || p.want_stats) {
      httplib::Client c(options_.replica_host, p.port);
      auto timeout = std::chrono::milliseconds(options_.health_timeout_ms);
      c.set_connection_timeout(timeout);
      c.set_read_timeout(timeout);
      auto res = c.Get(p.want_stats ? "/stats" : "/healthz");
      p.healthy = res && res->status == 200;
      if (p.healthy && p.want_stats) {
        auto doc = nlohmann::json::parse(res->body, nullptr, false);
        if (doc.is_object() && doc.contains("batches")) {
          p.batches = doc.value("batches", int64_t{0});
          p.batch_rows = static_cast<int64_t>(doc.value("mean_batch", 0.0) * static_cast<double>(p.batches) + 0.5);
        }
      }
    }
  }

  std::lock_guard lock(mu_);
  if (live_.find(name) == live_.end() || live_[name] != live) return;  // deleted meanwhile
  bool changed = false;
  for (const Probe& p : probes) {
    auto it = live->replicas.find(p.id);
    if (it == live->replicas.end()) continue;
    LiveReplica& r = it->second;
    if (!p.looked) continue;  // the store did not answer; look again next tick
    if (!p.job || IsTerminal(p.job->state)) {
      // Ended, or deleted from the store by a user: either way it serves no more.
      spdlog::info("deployment {}: replica job {} ended ({})", name, p.id,
                   p.job ? std::string(JobStateName(p.job->state)) + " " + p.job->reason : "deleted");
      ForgetReplicaLocked(*live, p.id);
      changed = true;
      continue;
    }
    if (p.job->state != JobState::kRunning) continue;  // still queued or starting
    if (r.phase == ReplicaPhase::kQueued) {
      r.phase = ReplicaPhase::kStarting;
      r.running_since = now;
    }
    if (r.phase == ReplicaPhase::kStarting) {
      if (p.healthy) {
        r.phase = ReplicaPhase::kReady;
        r.health_failures = 0;
        live->router->Add(p.id, options_.replica_host, r.record.port);
        spdlog::info("deployment {}: replica job {} ready on port {}", name, p.id, r.record.port);
      } else if (now - r.running_since > std::chrono::seconds(options_.replica_start_timeout_s)) {
        StopReplicaLocked(*live, p.id, "not healthy after " + std::to_string(options_.replica_start_timeout_s) + " s");
        changed = true;
      }
    } else if (r.phase == ReplicaPhase::kReady && p.want_stats) {
      if (p.healthy) {
        r.health_failures = 0;
        if (p.batches >= 0) {
          r.batches = p.batches;
          r.batch_rows = p.batch_rows;
        }
      } else if (++r.health_failures >= 3) {
        StopReplicaLocked(*live, p.id, "failed 3 health checks");
        changed = true;
      }
    }
  }
  // Draining replicas leave once their last request is answered.
  std::vector<JobId> drained;
  for (auto& [id, r] : live->replicas) {
    if (r.phase == ReplicaPhase::kDraining && live->router->Outstanding(id) <= 0) drained.push_back(id);
  }
  for (JobId id : drained) {
    StopReplicaLocked(*live, id, "drained");
    changed = true;
  }
  size_t before = live->replicas.size();
  ScaleLocked(*live);
  if (changed || before != live->replicas.size() || live->replicas.size() != live->d.replicas.size()) {
    if (Status s = PersistLocked(*live); !s.ok()) spdlog::error("deployment {}: {}", name, s.ToString());
  }
}

void DeploymentService::ScaleLocked(Live& live) {
  int64_t now_ms = deps_.clock.NowMillis();
  live.autoscaler.Observe(now_ms, static_cast<double>(live.router->in_flight()));
  const int version = live.d.version;
  std::vector<JobId> current, old_ready, old_other;
  int ready_current = 0;
  for (const auto& [id, r] : live.replicas) {
    if (r.phase == ReplicaPhase::kDraining) continue;
    if (r.record.version == version) {
      current.push_back(id);
      if (r.phase == ReplicaPhase::kReady) ++ready_current;
    } else if (r.phase == ReplicaPhase::kReady) {
      old_ready.push_back(id);
    } else {
      old_other.push_back(id);
    }
  }
  // During a version switch the old replicas count as capacity, so the new ones are started at
  // the size the load needs rather than the size the old version had shrunk to.
  int counted = static_cast<int>(current.size() + old_ready.size());
  live.desired = live.autoscaler.Desired(now_ms, counted, live.d.spec.replicas.min, live.d.spec.replicas.max);
  if (live.desired == 0 && live.router->in_flight() > 0) live.desired = 1;  // scale from zero on demand

  // New-version replicas: start or stop toward desired.
  for (int n = static_cast<int>(current.size()); n < live.desired; ++n) {
    if (Status s = StartReplicaLocked(live); !s.ok()) {
      spdlog::warn("deployment {}: cannot start a replica: {}", live.d.spec.name, s.ToString());
      break;
    }
  }
  if (static_cast<int>(current.size()) > live.desired) {
    // Least useful first: not yet running, then starting, then the ready one with least load.
    std::vector<JobId> victims = current;
    std::sort(victims.begin(), victims.end(), [&](JobId a, JobId b) {
      const auto& ra = live.replicas[a];
      const auto& rb = live.replicas[b];
      if (ra.phase != rb.phase) return static_cast<int>(ra.phase) < static_cast<int>(rb.phase);
      return live.router->Outstanding(a) < live.router->Outstanding(b);
    });
    int excess = static_cast<int>(current.size()) - live.desired;
    for (int i = 0; i < excess; ++i) {
      JobId id = victims[static_cast<size_t>(i)];
      LiveReplica& r = live.replicas[id];
      if (r.phase == ReplicaPhase::kReady) {
        if (ready_current - 1 < 1 && live.desired >= 1) continue;  // keep one serving
        --ready_current;
        r.phase = ReplicaPhase::kDraining;
        live.router->Drain(id);
        spdlog::info("deployment {}: draining replica job {} (scale down to {})", live.d.spec.name, id, live.desired);
      } else {
        StopReplicaLocked(live, id, "not needed");
      }
    }
  }
  // Old-version replicas: not-yet-ready ones go now; ready ones as new ones take over.
  for (JobId id : old_other) StopReplicaLocked(live, id, "replaced by version " + std::to_string(version));
  int keep_old = std::max(0, std::min(static_cast<int>(old_ready.size()), live.desired - ready_current));
  if (ready_current == 0) keep_old = static_cast<int>(old_ready.size());
  std::sort(old_ready.begin(), old_ready.end());
  for (size_t i = static_cast<size_t>(keep_old); i < old_ready.size(); ++i) {
    live.replicas[old_ready[i]].phase = ReplicaPhase::kDraining;
    live.router->Drain(old_ready[i]);
    spdlog::info("deployment {}: draining replica job {} of an old version", live.d.spec.name, old_ready[i]);
  }
}

int DeploymentService::FreePortLocked() const {
  std::set<int> taken;
  for (const auto& [_, live] : live_) {
    for (const auto& [id, r] : live->replicas) taken.insert(r.record.port);
  }
  for (int attempt = 0; attempt < 20; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    ::close(fd);
    if (port > 0 && !taken.contains(port)) return port;
  }
  return 0;
}

Status DeploymentService::StartReplicaLocked(Live& live) {
  if (options_.serve_binary.empty()) {
    return Status::FailedPrecondition("stoke-serve was not found (this Stoke was built without libtorch?); set "
                                      "STOKE_SERVE_BIN");
  }
  int port = FreePortLocked();
  if (port == 0) return Status::Unavailable("no free port for a replica");
  const DeploymentSpec& spec = live.d.spec;
  JobSpec job;
  job.type = JobType::kCommand;
  job.name = "deploy-" + spec.name + "-v" + std::to_string(live.d.version);
  job.argv = {options_.serve_binary,
              "--model", live.d.model_file,
              "--bind", options_.replica_host,
              "--port", std::to_string(port),
              "--max-batch", std::to_string(spec.batching.max_batch),
              "--max-delay-ms", std::to_string(spec.batching.max_delay_ms),
              "--threads", std::to_string(std::max(1, spec.resources.cpus)),
              "--device", spec.resources.gpus > 0 ? "cuda" : "cpu"};
  if (!spec.input_shape.empty()) {
    job.argv.push_back("--input-shape");
    job.argv.push_back(ShapeArg(spec.input_shape));
  }
  job.resources = spec.resources;
  job.hparams_json = "{}";
  job.env["STOKE_DEPLOYMENT"] = spec.name;
  STOKE_ASSIGN_OR_RETURN(Job created, deps_.jobs.Submit(OwnerOf(live), std::move(job), std::nullopt));
  LiveReplica r;
  r.record = {created.id, port, live.d.version};
  live.replicas[created.id] = r;
  live.d.replicas.push_back(r.record);
  spdlog::info("deployment {}: started replica job {} (version {}, port {})", spec.name, created.id, live.d.version, port);
  return Status::Ok();
}

void DeploymentService::StopReplicaLocked(Live& live, JobId id, const std::string& why) {
  auto killed = deps_.jobs.Kill(Principal{"stoke-deploy", true, 0}, id, options_.kill_grace_s);
  if (!killed && killed.error().code() != StatusCode::kNotFound) {
    spdlog::warn("deployment {}: cannot stop replica job {}: {}", live.d.spec.name, id, killed.error().ToString());
    return;  // tried again next tick
  }
  spdlog::info("deployment {}: stopping replica job {}: {}", live.d.spec.name, id, why);
  ForgetReplicaLocked(live, id);
}

void DeploymentService::ForgetReplicaLocked(Live& live, JobId id) {
  live.router->Remove(id);
  if (auto it = live.replicas.find(id); it != live.replicas.end()) {
    live.retired_batches += it->second.batches;
    live.retired_batch_rows += it->second.batch_rows;
    live.replicas.erase(it);
  }
  std::erase_if(live.d.replicas, [&](const ReplicaRecord& r) { return r.job_id == id; });
}

Status DeploymentService::PersistLocked(Live& live) {
  live.d.replicas.clear();
  for (const auto& [id, r] : live.replicas) live.d.replicas.push_back(r.record);
  live.d.updated_at = deps_.clock.NowMillis();
  return deps_.store.Put(kNamespace, live.d.spec.name, EncodeDeployment(live.d));
}

DeploymentView DeploymentService::ViewLocked(const Live& live) const {
  DeploymentView v;
  v.deployment = live.d;
  v.desired = live.desired;
  v.mean_in_flight = live.autoscaler.MeanInFlight();
  for (const auto& [id, r] : live.replicas) {
    v.replicas.push_back({id, r.record.port, r.record.version, r.phase, std::max<int64_t>(0, live.router->Outstanding(id))});
  }
  return v;
}

Result<std::shared_ptr<DeploymentService::Live>> DeploymentService::FindVisibleLocked(const Principal& who,
                                                                                      const std::string& name) const {
  auto it = live_.find(name);
  // Someone else's deployment reads as absent: names of other users' work do not leak.
  if (it == live_.end() || (!who.admin && it->second->d.user != who.user) || who.job_scope != 0) {
    return Err(Status::NotFound("no deployment \"" + name + "\""));
  }
  return it->second;
}

Result<std::string> DeploymentService::InstallModel(const Principal& who, const std::string& name, int version,
                                                    const ModelSource& source,
                                                    const std::optional<std::string>& uploaded) {
  std::string from;
  if (uploaded) {
    from = *uploaded;
  } else {
    if (source.job <= 0) {
      return Err(Status::InvalidArgument("give the model as an uploaded file part or as {job, path}", "model"));
    }
    STOKE_ASSIGN_OR_RETURN(Job job, deps_.jobs.Get(who, source.job));
    fs::path rel(source.path.empty() ? "model.pt" : source.path);
    if (rel.is_absolute() || std::any_of(rel.begin(), rel.end(), [](const fs::path& p) { return p == ".."; })) {
      return Err(Status::InvalidArgument("model.path must be relative to the job's result directory, without ..",
                                         "model.path"));
    }
    std::error_code ec;
    fs::path result_dir = fs::weakly_canonical(service::JobFiles(job.job_dir).ResultDir(), ec);
    fs::path file = fs::weakly_canonical(result_dir / rel, ec);
    std::string prefix = result_dir.string() + "/";
    if (ec || !file.string().starts_with(prefix)) {
      return Err(Status::InvalidArgument("model.path leaves the job's result directory", "model.path"));
    }
    if (!fs::is_regular_file(file, ec)) {
      return Err(Status::InvalidArgument("job " + std::to_string(source.job) + " has no result file " + rel.string() +
                                             " (state " + std::string(JobStateName(job.state)) + ")",
                                         "model.path"));
    }
    from = file.string();
  }
  STOKE_RETURN_IF_ERROR(CheckLooksLikeTorchScript(from, uploaded ? "model" : "model.path"));
  std::string to = options_.data_dir + "/deployments/" + name + "/v" + std::to_string(version) + "/model.pt";
  STOKE_RETURN_IF_ERROR(CopyFile(from, to));
  return to;
}

Result<DeploymentView> DeploymentService::Create(const Principal& who, DeploymentSpec spec,
                                                 const std::optional<std::string>& uploaded_model) {
  if (who.job_scope != 0) return Err(Status::PermissionDenied("a job token cannot create deployments"));
  STOKE_RETURN_IF_ERROR(ValidateSpec(spec));
  {
    std::lock_guard lock(mu_);
    if (live_.contains(spec.name)) {
      return Err(Status::AlreadyExists("deployment \"" + spec.name + "\" exists; PATCH it to roll out a new version"));
    }
  }
  STOKE_ASSIGN_OR_RETURN(std::string model_file, InstallModel(who, spec.name, 1, spec.model, uploaded_model));
  auto live = std::make_shared<Live>();
  live->d.spec = std::move(spec);
  live->d.user = who.user;
  live->d.version = 1;
  live->d.model_file = model_file;
  live->d.created_at = deps_.clock.NowMillis();
  live->router = std::make_shared<ReplicaRouter>();
  live->autoscaler = Autoscaler(options_.autoscale);
  live->desired = std::max(1, live->d.spec.replicas.min);
  std::lock_guard lock(mu_);
  if (live_.contains(live->d.spec.name)) {
    return Err(Status::AlreadyExists("deployment \"" + live->d.spec.name + "\" exists"));
  }
  // The first replica is submitted before the deployment is stored, so a request that cannot fit
  // the pool (too many GPUs, ...) is refused with its reason and leaves nothing behind.
  Status first = StartReplicaLocked(*live);
  if (!first.ok()) {
    std::error_code ec;
    fs::remove_all(options_.data_dir + "/deployments/" + live->d.spec.name, ec);
    if (first.code() == StatusCode::kInvalidArgument && first.field().starts_with("resources")) return Err(first);
    return Err(first.WithContext("cannot start a replica"));
  }
  for (int n = 1; n < live->desired; ++n) {
    if (Status s = StartReplicaLocked(*live); !s.ok()) break;
  }
  if (Status s = PersistLocked(*live); !s.ok()) {
    for (const auto& [id, _] : live->replicas) (void)deps_.jobs.Kill(Principal{"stoke-deploy", true, 0}, id, 0);
    return Err(s);
  }
  live_[live->d.spec.name] = live;
  return ViewLocked(*live);
}

Result<std::vector<DeploymentView>> DeploymentService::List(const Principal& who) {
  std::lock_guard lock(mu_);
  std::vector<DeploymentView> out;
  for (const auto& [name, live] : live_) {
    if (who.job_scope == 0 && (who.admin || live->d.user == who.user)) out.push_back(ViewLocked(*live));
  }
  return out;
}

Result<DeploymentView> DeploymentService::Get(const Principal& who, const std::string& name) {
  std::lock_guard lock(mu_);
  STOKE_ASSIGN_OR_RETURN(auto live, FindVisibleLocked(who, name));
  return ViewLocked(*live);
}

Result<DeploymentView> DeploymentService::Update(const Principal& who, const std::string& name,
                                                 DeploymentUpdate update) {
  std::shared_ptr<Live> live;
  DeploymentSpec spec;
  int version = 0;
  {
    std::lock_guard lock(mu_);
    STOKE_ASSIGN_OR_RETURN(live, FindVisibleLocked(who, name));
    spec = live->d.spec;
    version = live->d.version;
  }
  bool new_version = false;
  if (update.model || update.uploaded_model) {
    new_version = true;
    spec.model = update.uploaded_model ? ModelSource{0, update.uploaded_name} : *update.model;
  }
  if (update.replicas) spec.replicas = *update.replicas;
  if (update.batching && *update.batching != spec.batching) {
    spec.batching = *update.batching;
    new_version = true;
  }
  if (update.resources && *update.resources != spec.resources) {
    spec.resources = *update.resources;
    new_version = true;
  }
  if (update.input_shape && *update.input_shape != spec.input_shape) {
    spec.input_shape = *update.input_shape;
    new_version = true;
  }
  STOKE_RETURN_IF_ERROR(ValidateSpec(spec));
  if (update.resources) {
    // Check the new per-replica resources fit before anything changes.
    const service::PoolConfig& pool = deps_.jobs.pool();
    if (spec.resources.gpus > static_cast<int>(pool.gpus.size())) {
      return Err(Status::InvalidArgument("asks for more GPUs than the pool has", "resources.gpus"));
    }
    if (spec.resources.cpus > pool.cpu_slots) {
      return Err(Status::InvalidArgument("asks for more CPU slots than the pool has", "resources.cpus"));
    }
  }
  std::string model_file;
  if (new_version) {
    ModelSource source = update.model.value_or(spec.model);
    if (update.model || update.uploaded_model) {
      STOKE_ASSIGN_OR_RETURN(model_file, InstallModel(who, name, version + 1, source, update.uploaded_model));
    } else {
      // Same model, new serving options: the new version reuses the file.
      std::lock_guard lock(mu_);
      model_file = live->d.model_file;
    }
  }
  std::lock_guard lock(mu_);
  if (live_.find(name) == live_.end() || live_[name] != live) return Err(Status::NotFound("no deployment \"" + name + "\""));
  if (live->d.version != version) return Err(Status::Aborted("the deployment changed meanwhile; retry"));
  live->d.spec = spec;
  if (new_version) {
    live->d.version = version + 1;
    live->d.model_file = model_file;
  }
  STOKE_RETURN_IF_ERROR(PersistLocked(*live));
  cv_.notify_all();
  return ViewLocked(*live);
}

Status DeploymentService::Delete(const Principal& who, const std::string& name) {
  std::lock_guard lock(mu_);
  STOKE_ASSIGN_OR_RETURN(auto live, FindVisibleLocked(who, name));
  if (who.job_scope != 0) return Status::PermissionDenied("a job token cannot delete deployments");
  // Forget it durably first: a crash now leaves at most replica jobs that end on their own kill.
  STOKE_RETURN_IF_ERROR(deps_.store.Erase(kNamespace, name));
  std::vector<JobId> ids;
  for (const auto& [id, _] : live->replicas) ids.push_back(id);
  for (JobId id : ids) (void)deps_.jobs.Kill(Principal{"stoke-deploy", true, 0}, id, options_.kill_grace_s);
  live_.erase(name);
  std::error_code ec;
  fs::remove_all(options_.data_dir + "/deployments/" + name, ec);
  return Status::Ok();
}

Result<RoutedResponse> DeploymentService::Predict(const Principal& who, const std::string& name,
                                                  const std::string& body) {
  std::shared_ptr<ReplicaRouter> router;
  {
    std::lock_guard lock(mu_);
    STOKE_ASSIGN_OR_RETURN(auto live, FindVisibleLocked(who, name));
    router = live->router;
  }
  return router->Forward(body, std::chrono::milliseconds(options_.wait_for_replica_ms));
}

std::string DeploymentService::PrometheusText() const {
  std::ostringstream out;
  std::lock_guard lock(mu_);
  if (live_.empty()) return {};
  out << "# HELP stoke_deployment_requests_total Scoring requests answered by the deployment router.\n"
         "# TYPE stoke_deployment_requests_total counter\n";
  for (const auto& [name, live] : live_) {
    RouterStats s = live->router->stats();
    std::string l = "deployment=\"" + Escape(name) + "\"";
    out << "stoke_deployment_requests_total{" << l << ",outcome=\"ok\"} " << s.ok << "\n"
        << "stoke_deployment_requests_total{" << l << ",outcome=\"client_error\"} " << s.client_errors << "\n"
        << "stoke_deployment_requests_total{" << l << ",outcome=\"server_error\"} " << s.server_errors << "\n";
  }
  out << "# HELP stoke_deployment_request_duration_seconds Scoring latency at the router.\n"
         "# TYPE stoke_deployment_request_duration_seconds histogram\n";
  for (const auto& [name, live] : live_) {
    RouterStats s = live->router->stats();
    std::string l = "deployment=\"" + Escape(name) + "\"";
    for (size_t i = 0; i < s.latency_bounds_s.size(); ++i) {
      out << "stoke_deployment_request_duration_seconds_bucket{" << l << ",le=\"" << s.latency_bounds_s[i] << "\"} "
          << s.latency_counts[i] << "\n";
    }
    out << "stoke_deployment_request_duration_seconds_bucket{" << l << ",le=\"+Inf\"} " << s.latency_counts.back() << "\n"
        << "stoke_deployment_request_duration_seconds_sum{" << l << "} " << s.latency_sum_s << "\n"
        << "stoke_deployment_request_duration_seconds_count{" << l << "} " << s.requests << "\n";
  }
  out << "# HELP stoke_deployment_batches_total Model forwards run by the deployment's replicas.\n"
         "# TYPE stoke_deployment_batches_total counter\n";
  for (const auto& [name, live] : live_) {
    int64_t batches = live->retired_batches;
    for (const auto& [id, r] : live->replicas) batches += r.batches;
    out << "stoke_deployment_batches_total{deployment=\"" << Escape(name) << "\"} " << batches << "\n";
  }
  out << "# HELP stoke_deployment_batch_rows_total Rows scored in those forwards (rows/batches = mean batch size).\n"
         "# TYPE stoke_deployment_batch_rows_total counter\n";
  for (const auto& [name, live] : live_) {
    int64_t rows = live->retired_batch_rows;
    for (const auto& [id, r] : live->replicas) rows += r.batch_rows;
    out << "stoke_deployment_batch_rows_total{deployment=\"" << Escape(name) << "\"} " << rows << "\n";
  }
  out << "# HELP stoke_deployment_replicas Replicas by phase.\n# TYPE stoke_deployment_replicas gauge\n";
  for (const auto& [name, live] : live_) {
    std::map<ReplicaPhase, int> by_phase;
    for (const auto& [id, r] : live->replicas) ++by_phase[r.phase];
    for (ReplicaPhase p : {ReplicaPhase::kQueued, ReplicaPhase::kStarting, ReplicaPhase::kReady, ReplicaPhase::kDraining}) {
      out << "stoke_deployment_replicas{deployment=\"" << Escape(name) << "\",phase=\"" << ReplicaPhaseName(p) << "\"} "
          << by_phase[p] << "\n";
    }
  }
  out << "# HELP stoke_deployment_desired_replicas Replicas the autoscaler asks for.\n"
         "# TYPE stoke_deployment_desired_replicas gauge\n";
  for (const auto& [name, live] : live_) {
    out << "stoke_deployment_desired_replicas{deployment=\"" << Escape(name) << "\"} " << live->desired << "\n";
  }
  out << "# HELP stoke_deployment_in_flight Scoring requests inside the router now.\n"
         "# TYPE stoke_deployment_in_flight gauge\n";
  for (const auto& [name, live] : live_) {
    out << "stoke_deployment_in_flight{deployment=\"" << Escape(name) << "\"} " << live->router->in_flight() << "\n";
  }
  return out.str();
}

}  // namespace stoke::deploy
