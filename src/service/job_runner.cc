#include "service/job_runner.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "ingest/val_dict_list.h"
#include "service/job_files.h"

extern char** environ;

namespace stoke::service {

namespace fs = std::filesystem;
using Clock_ = std::chrono::steady_clock;

namespace {

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::vector<store::MetricPoint> ToMetricPoints(const std::vector<ingest::IngestedPoint>& points, UnixMillis now) {
  std::vector<store::MetricPoint> out;
  out.reserve(points.size());
  for (const auto& p : points) out.push_back(store::MetricPoint{p.step, p.name, p.value, now});
  return out;
}

}  // namespace

JobRunner::JobRunner(Deps deps, Options options) : deps_(deps), options_(std::move(options)) {}

JobRunner::~JobRunner() { Stop(); }

Status JobRunner::Start() {
  Recover();
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void JobRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JobRunner::Wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

void JobRunner::RequestKill(JobId id, int grace_s, const std::string& by) {
  {
    std::lock_guard lock(mu_);
    kill_requests_[id] = {grace_s < 0 ? options_.default_kill_grace_s : grace_s, by};
    wake_ = true;
  }
  cv_.notify_all();
}

bool JobRunner::IsActive(JobId id) const {
  std::lock_guard lock(mu_);
  return active_.contains(id);
}

std::string JobRunner::WaitingReason(JobId id) const {
  std::lock_guard lock(mu_);
  auto it = waiting_reason_.find(id);
  return it == waiting_reason_.end() ? std::string() : it->second;
}

ClusterSnapshot JobRunner::Snapshot() const {
  std::lock_guard lock(mu_);
  ClusterSnapshot snap;
  snap.pool = options_.pool;
  for (const auto& [id, a] : active_) snap.running.push_back(a.job);
  snap.queued = queued_view_;
  snap.waiting_reason = waiting_reason_;
  return snap;
}

void JobRunner::Loop() {
  bool dirty = true;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms), [&] { return wake_ || stop_; });
      if (stop_) return;
      if (wake_) dirty = true;
      wake_ = false;
    }
    ApplyKills();
    if (ApplyScaleRequests()) dirty = true;
    if (PollActive()) dirty = true;
    if (dirty) {
      ScheduleQueued();
      dirty = false;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Recovery

void JobRunner::Recover() {
  auto unfinished = deps_.store.ListUnfinishedJobs();
  if (!unfinished) {
    spdlog::error("recovery: cannot list unfinished jobs: {}", unfinished.error().ToString());
    return;
  }
  int reattached = 0, lost = 0, requeued = 0;
  for (Job& job : *unfinished) {
    if (job.state == JobState::kQueued) continue;  // ScheduleQueued reads them from the store
    if (job.spec.type == JobType::kElastic) {
      RecoverElastic(job);
      ++requeued;
      continue;
    }
    JobFiles files(job.job_dir);
    launch::ProcessHandle handle{job.pid, job.pid_start_ticks};
    if (handle.pid == 0) {
      // Crashed between STARTING and RUNNING: the launch may have happened; the handle file says.
      if (auto h = files.ReadHandle()) handle = *h;
    }
    if (handle.pid == 0) {
      Job before = job;
      job.state = JobState::kQueued;
      job.allocation = {};
      job.started_at = 0;
      job.reason = "re-queued: the server stopped before the job was launched";
      if (deps_.store.UpdateJob(job, before.state).ok()) ++requeued;
      continue;
    }
    launch::ProcessStatus st = deps_.launcher.Poll(handle, files.StatusPath());
    Active a;
    a.job = job;
    a.job.pid = handle.pid;
    a.job.pid_start_ticks = handle.start_ticks;
    a.handle = handle;
    a.status_path = files.StatusPath();
    a.started = Clock_::now();
    if (st.state == launch::ProcessState::kRunning) {
      if (a.job.state != JobState::kRunning) {
        a.job.state = JobState::kRunning;
        (void)deps_.store.UpdateJob(a.job, job.state);
      }
      // Elapsed runtime continues from the recorded start for max_runtime enforcement.
      int64_t ran_ms = std::max<int64_t>(0, deps_.clock.NowMillis() - job.started_at);
      a.started = Clock_::now() - std::chrono::milliseconds(ran_ms);
      if (job.reason.starts_with("kill requested")) {
        kill_requests_[job.id] = {options_.default_kill_grace_s, "recovery"};
      }
      std::lock_guard lock(mu_);
      active_.emplace(job.id, std::move(a));
      ++reattached;
    } else if (st.state == launch::ProcessState::kExited) {
      Finish(a, st);
    } else {
      Finish(a, st);
      ++lost;
    }
  }
  spdlog::info("recovery: {} running job(s) re-attached, {} lost, {} re-queued", reattached, lost, requeued);
}

// ---------------------------------------------------------------------------------------------
// Scheduling and launching

void JobRunner::ScheduleQueued() {
  std::vector<Job> queued;
  store::JobFilter filter;
  filter.states = {JobState::kQueued};
  filter.limit = 1000;
  while (true) {
    auto page = deps_.store.ListJobs(filter);
    if (!page) {
      spdlog::error("scheduler: cannot read the queue: {}", page.error().ToString());
      return;
    }
    for (Job& j : page->jobs) queued.push_back(std::move(j));
    if (!page->next_before_id) break;
    filter.before_id = *page->next_before_id;
  }
  std::sort(queued.begin(), queued.end(), [](const Job& a, const Job& b) {
    if (a.spec.priority != b.spec.priority) return a.spec.priority > b.spec.priority;
    return a.id < b.id;
  });

  sched::SchedulingInput in;
  in.pool.cpu_slots = options_.pool.cpu_slots;
  for (const auto& g : options_.pool.gpus) in.pool.gpus.push_back(g.index);
  in.pool.memory_bytes = options_.pool.memory_bytes;
  in.now = deps_.clock.NowMillis();
  for (const auto& [id, a] : active_) {
    if (a.job.spec.type == JobType::kElastic) {
      in.running.push_back(ElasticRunningJob(a));
      continue;
    }
    sched::RunningJob r;
    r.id = id;
    r.user = a.job.user;
    r.priority = a.job.spec.priority;
    r.per_unit = a.job.spec.resources;
    r.units = {a.job.allocation};
    r.started_at = a.job.started_at;
    r.stopping = a.kill_sent;
    if (a.job.spec.max_runtime_s > 0) r.expected_end = a.job.started_at + a.job.spec.max_runtime_s * 1000;
    in.running.push_back(std::move(r));
  }
  std::map<JobId, const Job*> by_id;
  for (const Job& j : queued) {
    sched::PendingJob p;
    p.id = j.id;
    p.user = j.user;
    p.priority = j.spec.priority;
    p.seq = j.id;
    p.per_unit = j.spec.resources;
    p.max_runtime_s = j.spec.max_runtime_s;
    if (j.spec.type == JobType::kElastic) {
      p.min_units = j.spec.elastic.min_workers;
      p.max_units = j.spec.elastic.max_workers;
    }
    in.queue.push_back(std::move(p));
    by_id[j.id] = &j;
  }
  auto scheduled = sched::Schedule(in);
  if (!scheduled) {
    spdlog::error("scheduler: {}", scheduled.error().ToString());
    return;
  }
  const sched::Decision& decision = *scheduled;

  // Shrinks first: the workers asked to leave hold their slots until they exit, so a start placed
  // on those slots waits for a later cycle (LeavingWorkersHold).
  for (const auto& resize : decision.resize) ApplyResize(resize);
  std::vector<JobId> started;
  for (const auto& placement : decision.start) {
    auto it = by_id.find(placement.id);
    if (it == by_id.end() || placement.units.empty()) continue;
    if (LeavingWorkersHold(placement.units)) continue;
    if (LaunchJob(*it->second, placement.units)) started.push_back(placement.id);
  }
  std::lock_guard lock(mu_);
  queued_view_.clear();
  for (const Job& j : queued) {
    if (std::find(started.begin(), started.end(), j.id) == started.end()) queued_view_.push_back(j);
  }
  waiting_reason_ = decision.waiting_reason;
}

std::map<std::string, std::string> JobRunner::JobEnvironment(const Job& job, const std::string& job_token) const {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(kv.substr(0, eq));
    if (key.starts_with("STOKE_") || key == "CUDA_VISIBLE_DEVICES" || key == "OMP_NUM_THREADS") continue;
    env[key] = std::string(kv.substr(eq + 1));
  }
  for (const auto& [k, v] : job.spec.env) env[k] = v;
  JobFiles files(job.job_dir);
  env["STOKE_JOB_ID"] = std::to_string(job.id);
  env["STOKE_API"] = options_.api_url;
  env["STOKE_TOKEN"] = job_token;
  env["STOKE_HPARAMS"] = files.HparamsPath();
  env["RESULT_DIR"] = files.ResultDir();
  env["LOG_DIR"] = files.LogDir();
  std::string gpus;
  for (int g : job.allocation.gpus) gpus += (gpus.empty() ? "" : ",") + std::to_string(g);
  env["CUDA_VISIBLE_DEVICES"] = gpus;
  env["OMP_NUM_THREADS"] = std::to_string(std::max<size_t>(1, job.allocation.cpus.size()));
  return env;
}

bool JobRunner::LaunchJob(Job job, const std::vector<Allocation>& units) {
  job.allocation = {};
  for (const Allocation& unit : units) {
    job.allocation.cpus.insert(job.allocation.cpus.end(), unit.cpus.begin(), unit.cpus.end());
    job.allocation.gpus.insert(job.allocation.gpus.end(), unit.gpus.begin(), unit.gpus.end());
  }
  job.state = JobState::kStarting;
  job.started_at = deps_.clock.NowMillis();
  job.reason.clear();
  if (Status s = deps_.store.UpdateJob(job, JobState::kQueued); !s.ok()) {
    // Killed or deleted while we were deciding: the store's compare-and-set says so.
    if (s.code() != StatusCode::kAborted && s.code() != StatusCode::kNotFound) {
      spdlog::error("job {}: cannot mark STARTING: {}", job.id, s.ToString());
    }
    return false;
  }
  JobFiles files(job.job_dir);
  auto fail = [&](const std::string& reason) {
    Job before = job;
    job.state = JobState::kFailed;
    job.reason = reason;
    job.finished_at = deps_.clock.NowMillis();
    (void)deps_.store.UpdateJob(job, before.state);
    (void)deps_.auth.RevokeJobTokens(job.id);
    spdlog::warn("job {}: failed to start: {}", job.id, reason);
    return true;  // it left the queue
  };
  std::string working_dir = job.spec.working_dir.empty() ? files.WorkDir() : job.spec.working_dir;
  if (Status s = files.PrepareForLaunch(working_dir, job.spec.hparams_json, job.spec.working_dir.empty()); !s.ok()) {
    return fail(s.message());
  }
  auto token = deps_.auth.CreateToken(job.user, false, job.id);
  if (!token) return fail("cannot create the job token: " + token.error().message());
  if (job.spec.type == JobType::kElastic) {
    Active a;
    a.job = job;
    a.token = token->secret;
    a.started = Clock_::now();
    if (!StartElastic(a, units)) return fail(a.last_failure);
    std::lock_guard lock(mu_);
    active_.emplace(job.id, std::move(a));
    return true;
  }

  launch::LaunchSpec spec;
  spec.job_id = job.id;
  spec.argv = job.spec.argv;
  spec.env = JobEnvironment(job, token->secret);
  spec.working_dir = working_dir;
  spec.log_path = files.LogPath();
  spec.status_path = files.StatusPath();
  const auto& cores = options_.pool.cpu_cores;
  for (int slot : job.allocation.cpus) {
    if (!cores.empty()) spec.cpu_cores.push_back(cores[static_cast<size_t>(slot) % cores.size()]);
  }
  std::sort(spec.cpu_cores.begin(), spec.cpu_cores.end());
  spec.cpu_cores.erase(std::unique(spec.cpu_cores.begin(), spec.cpu_cores.end()), spec.cpu_cores.end());
  spec.memory_bytes = job.spec.resources.memory_bytes;
  // RLIMIT_AS would also cap the GPU driver's address-space reservations: only cgroups for GPU jobs.
  spec.rlimit_fallback = job.allocation.gpus.empty();
  spec.grace_seconds = options_.default_kill_grace_s;

  auto launched = deps_.launcher.Launch(spec);
  if (!launched) return fail(launched.error().message());
  files.WriteHandle(launched->handle);

  job.state = JobState::kRunning;
  job.pid = launched->handle.pid;
  job.pid_start_ticks = launched->handle.start_ticks;
  if (job.spec.resources.memory_bytes > 0) job.reason = "memory limit enforced by " + launched->memory_enforcement;
  if (Status s = deps_.store.UpdateJob(job, JobState::kStarting); !s.ok()) {
    spdlog::error("job {}: cannot mark RUNNING: {}", job.id, s.ToString());
  }
  Active a;
  a.job = job;
  a.handle = launched->handle;
  a.status_path = files.StatusPath();
  a.started = Clock_::now();
  {
    std::lock_guard lock(mu_);
    active_.emplace(job.id, std::move(a));
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Watching

void JobRunner::ApplyKills() {
  std::map<JobId, std::pair<int, std::string>> requests;
  {
    std::lock_guard lock(mu_);
    requests.swap(kill_requests_);
  }
  for (const auto& [id, req] : requests) {
    auto it = active_.find(id);
    if (it == active_.end()) continue;
    Active& a = it->second;
    if (a.kill_sent) continue;
    a.kill_sent = true;
    a.kill_reason = "killed by " + req.second;
    a.kill_deadline = Clock_::now() + std::chrono::seconds(req.first) + std::chrono::seconds(2);
    Terminate(a, req.first == 0);
  }
}

void JobRunner::Terminate(Active& a, bool force) {
  if (a.job.spec.type == JobType::kElastic) {
    for (Worker& w : a.workers) {
      {
        std::lock_guard lock(mu_);  // Workers() reads it
        w.leaving = true;
      }
      if (Status s = deps_.launcher.Terminate(w.handle, force); !s.ok()) {
        spdlog::warn("job {} worker {}: terminate: {}", a.job.id, w.index, s.ToString());
      }
    }
    return;
  }
  if (Status s = deps_.launcher.Terminate(a.handle, force); !s.ok()) {
    spdlog::warn("job {}: terminate: {}", a.job.id, s.ToString());
  }
}

bool JobRunner::PollActive() {
  auto now = Clock_::now();
  std::vector<JobId> done;
  bool changed = false;
  for (auto& [id, a] : active_) {
    bool ended = false;
    if (a.job.spec.type == JobType::kElastic) {
      ended = PollElastic(a, changed);
    } else if (launch::ProcessStatus st = deps_.launcher.Poll(a.handle, a.status_path);
               st.state != launch::ProcessState::kRunning) {
      Finish(a, st);
      ended = true;
    }
    if (ended) {
      done.push_back(id);
      continue;
    }
    if (now >= a.next_ingest) {
      IngestFiles(a, false);
      a.next_ingest = now + std::chrono::milliseconds(options_.ingest_interval_ms);
    }
    if (!a.kill_sent && a.job.spec.max_runtime_s > 0 &&
        now - a.started >= std::chrono::seconds(a.job.spec.max_runtime_s)) {
      a.kill_sent = true;
      a.kill_reason = "exceeded max_runtime_s=" + std::to_string(a.job.spec.max_runtime_s);
      a.kill_deadline = now + std::chrono::seconds(options_.default_kill_grace_s) + std::chrono::seconds(2);
      Terminate(a, false);
    } else if (a.kill_sent && !a.forced && now >= a.kill_deadline) {
      // The supervisor did not finish the job within its grace: take the tree down ourselves.
      a.forced = true;
      Terminate(a, true);
    }
  }
  if (done.empty()) return changed;
  std::lock_guard lock(mu_);
  for (JobId id : done) active_.erase(id);
  return true;
}

void JobRunner::Finish(Active& a, const launch::ProcessStatus& st) {
  IngestFiles(a, true);
  Job before = a.job;
  Job& job = a.job;
  job.finished_at = deps_.clock.NowMillis();
  if (st.state == launch::ProcessState::kGone) {
    job.state = JobState::kLost;
    job.reason = "the job's processes vanished without an exit status (host restart or external kill of the supervisor)";
  } else {
    job.exit_code = st.signal != 0 ? 128 + st.signal : st.exit_code;
    if (!a.kill_reason.empty() || st.exit_kind == launch::ExitKind::kKilledByRequest) {
      job.state = JobState::kKilled;
      job.reason = a.kill_reason.empty() ? st.reason : a.kill_reason;
    } else if (st.exit_kind == launch::ExitKind::kExecFailed) {
      job.state = JobState::kFailed;
      job.reason = st.reason;
    } else if (st.signal != 0) {
      job.state = JobState::kFailed;
      job.reason = "killed by signal " + SignalName(st.signal);
    } else if (st.exit_code != 0) {
      job.state = JobState::kFailed;
      job.reason = st.reason.empty() ? "exited with code " + std::to_string(st.exit_code) : st.reason;
    } else {
      job.state = JobState::kCompleted;
      job.reason.clear();
    }
  }
  if (Status s = deps_.store.UpdateJob(job, before.state); !s.ok()) {
    spdlog::error("job {}: cannot record the end ({}): {}", job.id, JobStateName(job.state), s.ToString());
  }
  (void)deps_.auth.RevokeJobTokens(job.id);
  spdlog::info("job {} {} {}", job.id, JobStateName(job.state), job.reason);
}

void JobRunner::IngestFiles(Active& a, bool final) {
  JobFiles files(a.job.job_dir);
  UnixMillis now = deps_.clock.NowMillis();
  // Follows an append-only metrics file from where the last call stopped.
  auto follow = [&](const std::string& path, int64_t& offset, ingest::EmetricsParser& parser) {
    std::string appended = files.ReadFrom(path, offset);
    offset += static_cast<int64_t>(appended.size());
    auto points = appended.empty() ? std::vector<ingest::IngestedPoint>{} : parser.Feed(appended);
    if (final) {
      auto rest = parser.Flush();
      points.insert(points.end(), rest.begin(), rest.end());
    }
    if (!points.empty()) (void)deps_.store.AppendMetrics(a.job.id, ToMetricPoints(points, now));
  };
  follow(files.EmetricsPath(), a.emetrics_offset, a.emetrics);
  // Elastic jobs: the training worker's own metrics (rank 0 appends them).
  if (a.job.spec.type == JobType::kElastic) {
    follow(files.ResultDir() + "/metrics.jsonl", a.worker_metrics_offset, a.worker_metrics);
  }
  if (!final) return;
  // val_dict_list.json is rewritten whole by the trainer; read it once, at the end.
  std::string text = files.ReadFrom(files.ValDictListPath(), 0);
  if (text.empty()) return;
  auto points = ingest::ParseValDictList(text);
  if (!points) {
    spdlog::warn("job {}: ignoring val_dict_list.json: {}", a.job.id, points.error().message());
    return;
  }
  (void)deps_.store.AppendMetrics(a.job.id, ToMetricPoints(*points, now));
}

}  // namespace stoke::service
