// The elastic-job half of JobRunner: one stoke-worker process per scheduler unit, a rendezvous
// hosted by the server (RendezvousRegistry), shrinks that send SIGTERM to exactly the worker the
// scheduler took the unit from (it leaves at its next step boundary), growth into free slots,
// replacement of crashed workers, and the job's end once every worker has gone.
#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/text.h"
#include "service/job_files.h"
#include "service/job_runner.h"

namespace stoke::service {

namespace fs = std::filesystem;
using Clock_ = std::chrono::steady_clock;

namespace {

std::string WorkerFile(const JobFiles& files, const std::string& kind, int index) {
  return files.dir() + "/" + kind + "-w" + std::to_string(index);
}

// The worker files of an earlier incarnation of the job (before a server restart).
std::vector<std::string> OldWorkerFiles(const JobFiles& files, const std::string& kind) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(files.dir(), ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(kind + "-w")) out.push_back(entry.path().string());
  }
  return out;
}

bool Overlaps(const Allocation& a, const Allocation& b) {
  for (int c : a.cpus) {
    if (std::find(b.cpus.begin(), b.cpus.end(), c) != b.cpus.end()) return true;
  }
  for (int g : a.gpus) {
    if (std::find(b.gpus.begin(), b.gpus.end(), g) != b.gpus.end()) return true;
  }
  return false;
}

}  // namespace

std::vector<WorkerProcess> JobRunner::Workers(JobId id) const {
  std::lock_guard lock(mu_);
  std::vector<WorkerProcess> out;
  auto it = active_.find(id);
  if (it == active_.end()) return out;
  for (const Worker& w : it->second.workers) out.push_back({w.index, w.handle.pid, w.unit, w.leaving});
  return out;
}

Status JobRunner::RequestScale(JobId id, int workers) {
  {
    std::lock_guard lock(mu_);
    auto it = active_.find(id);
    if (it == active_.end() || it->second.job.spec.type != JobType::kElastic) {
      return Status::NotFound("job " + std::to_string(id) + " is not a running elastic job");
    }
    scale_requests_[id] = workers;
    wake_ = true;
  }
  cv_.notify_all();
  return Status::Ok();
}

bool JobRunner::ApplyScaleRequests() {
  std::map<JobId, int> requests;
  {
    std::lock_guard lock(mu_);
    requests.swap(scale_requests_);
  }
  for (const auto& [id, workers] : requests) {
    auto it = active_.find(id);
    if (it == active_.end()) continue;
    it->second.forced_workers = workers;
    spdlog::info("job {}: scale to {} worker(s) requested", id, workers);
    ApplyForcedScale(it->second);
  }
  return !requests.empty();
}

bool JobRunner::LeavingWorkersHold(const std::vector<Allocation>& units) const {
  for (const auto& [id, a] : active_) {
    for (const Worker& w : a.workers) {
      if (!w.leaving) continue;
      for (const Allocation& unit : units) {
        if (Overlaps(unit, w.unit)) return true;
      }
    }
  }
  return false;
}

sched::RunningJob JobRunner::ElasticRunningJob(const Active& a) const {
  const ElasticSpec& e = a.job.spec.elastic;
  sched::RunningJob r;
  r.id = a.job.id;
  r.user = a.job.user;
  r.priority = a.job.spec.priority;
  r.per_unit = a.job.spec.resources;
  // Leaving workers are left out: their slots are promised elsewhere once they exit.
  for (const Worker& w : a.workers) {
    if (!w.leaving) r.units.push_back(w.unit);
  }
  r.max_units = a.forced_workers > 0 ? a.forced_workers : e.max_workers;
  r.min_units = std::min(e.min_workers, r.max_units);
  r.started_at = a.job.started_at;
  r.stopping = a.kill_sent || a.finishing;  // neither grown nor shrunk any more
  if (a.job.spec.max_runtime_s > 0) r.expected_end = a.job.started_at + a.job.spec.max_runtime_s * 1000;
  return r;
}

bool JobRunner::StartElastic(Active& a, const std::vector<Allocation>& units) {
  if (deps_.rendezvous == nullptr || options_.worker_exe.empty()) {
    a.last_failure = "this server cannot run elastic jobs: stoke-worker was not found (Stoke built without libtorch?)";
    return false;
  }
  JobFiles files(a.job.job_dir);
  for (const char* kind : {"status", "handle"}) {
    for (const auto& path : OldWorkerFiles(files, kind)) fs::remove(path);
  }
  deps_.rendezvous->Open(a.job.id, a.job.spec.elastic.min_workers, a.job.spec.elastic.max_workers);
  // A job restarted after a server restart continues from its last checkpoint.
  const bool resume = fs::exists(fs::path(files.ResultDir()) / "checkpoint.pt");
  for (const Allocation& unit : units) {
    if (Status s = LaunchWorker(a, unit, resume); !s.ok()) {
      a.last_failure = "cannot start a worker: " + s.message();
      Terminate(a, /*force=*/true);
      deps_.rendezvous->Close(a.job.id);
      return false;
    }
  }
  a.job.state = JobState::kRunning;
  a.job.pid = a.workers.front().handle.pid;
  a.job.pid_start_ticks = a.workers.front().handle.start_ticks;
  if (resume) a.job.reason = "resumed from its last checkpoint";
  if (Status s = deps_.store.UpdateJob(a.job, JobState::kStarting); !s.ok()) {
    spdlog::error("job {}: cannot mark RUNNING: {}", a.job.id, s.ToString());
  }
  spdlog::info("job {}: elastic, started {} worker(s)", a.job.id, units.size());
  return true;
}

Status JobRunner::LaunchWorker(Active& a, const Allocation& unit, bool resume) {
  JobFiles files(a.job.job_dir);
  const int index = a.next_worker_index++;
  Job view = a.job;
  view.allocation = unit;  // CUDA_VISIBLE_DEVICES and OMP_NUM_THREADS of this worker
  launch::LaunchSpec spec;
  spec.job_id = a.job.id;
  spec.argv = {options_.worker_exe, "train"};
  spec.argv.insert(spec.argv.end(), a.job.spec.argv.begin(), a.job.spec.argv.end());
  for (const std::string& arg : {std::string("--store"), options_.api_url + "/jobs/" + std::to_string(a.job.id),
                                 std::string("--output"), files.ResultDir()}) {
    spec.argv.push_back(arg);
  }
  // Intra-op threads default to the worker's CPU slots unless "train" chose a number.
  if (std::find(a.job.spec.argv.begin(), a.job.spec.argv.end(), "--threads") == a.job.spec.argv.end()) {
    spec.argv.push_back("--threads");
    spec.argv.push_back(std::to_string(std::max<size_t>(1, unit.cpus.size())));
  }
  if (resume) spec.argv.push_back("--resume");
  spec.env = JobEnvironment(view, a.token);
  spec.env["STOKE_WORKER_INDEX"] = std::to_string(index);
  spec.working_dir = a.job.spec.working_dir.empty() ? files.WorkDir() : a.job.spec.working_dir;
  spec.log_path = files.LogPath();  // every worker appends to the job's log; lines carry the pid
  spec.status_path = WorkerFile(files, "status", index);
  const auto& cores = options_.pool.cpu_cores;
  for (int slot : unit.cpus) {
    if (!cores.empty()) spec.cpu_cores.push_back(cores[static_cast<size_t>(slot) % cores.size()]);
  }
  spec.memory_bytes = a.job.spec.resources.memory_bytes;
  spec.rlimit_fallback = unit.gpus.empty();
  spec.grace_seconds = options_.default_kill_grace_s;
  STOKE_ASSIGN_OR_RETURN(launch::LaunchResult launched, deps_.launcher.Launch(spec));
  files.WriteHandle(launched.handle, WorkerFile(files, "handle", index));
  Worker w{.index = index, .unit = unit, .handle = launched.handle, .status_path = spec.status_path, .leaving = false};
  std::lock_guard lock(mu_);
  a.workers.push_back(std::move(w));
  return Status::Ok();
}

void JobRunner::ApplyResize(const sched::Resize& resize) {
  auto it = active_.find(resize.id);
  if (it == active_.end()) return;
  Active& a = it->second;
  // remove_units index the units ElasticRunningJob reported: the workers not leaving, in order.
  std::vector<Worker*> staying;
  for (Worker& w : a.workers) {
    if (!w.leaving) staying.push_back(&w);
  }
  for (int index : resize.remove_units) {
    if (index < 0 || static_cast<size_t>(index) >= staying.size()) continue;
    Worker& w = *staying[static_cast<size_t>(index)];
    {
      std::lock_guard lock(mu_);
      w.leaving = true;
    }
    spdlog::info("job {}: shrinking: worker {} (pid {}) leaves at its next step", a.job.id, w.index, w.handle.pid);
    (void)deps_.launcher.Terminate(w.handle, /*force=*/false);
  }
  for (const Allocation& unit : resize.add) {
    if (Status s = LaunchWorker(a, unit, /*resume=*/false); !s.ok()) {
      spdlog::warn("job {}: cannot add a worker: {}", a.job.id, s.ToString());
    } else {
      spdlog::info("job {}: growing: worker {} started", a.job.id, a.workers.back().index);
    }
  }
}

void JobRunner::ApplyForcedScale(Active& a) {
  int staying = 0;
  for (const Worker& w : a.workers) staying += w.leaving ? 0 : 1;
  // Newest first, like the scheduler's shrinks.
  for (auto w = a.workers.rbegin(); w != a.workers.rend() && staying > a.forced_workers; ++w) {
    if (w->leaving) continue;
    {
      std::lock_guard lock(mu_);
      w->leaving = true;
    }
    --staying;
    (void)deps_.launcher.Terminate(w->handle, /*force=*/false);
  }
}

bool JobRunner::PollElastic(Active& a, bool& changed) {
  const auto now = Clock_::now();
  const std::optional<std::string> done = deps_.rendezvous->Done(a.job.id);
  if (done) a.finishing = true;
  for (size_t i = 0; i < a.workers.size();) {
    Worker& w = a.workers[i];
    launch::ProcessStatus st = deps_.launcher.Poll(w.handle, w.status_path);
    if (st.state == launch::ProcessState::kRunning) {
      ++i;
      continue;
    }
    const bool clean = st.state == launch::ProcessState::kExited && st.signal == 0 && st.exit_code == 0;
    if (!clean && !w.leaving && !done) {
      ++a.worker_failures;
      std::string tail = TailLines(JobFiles(a.job.job_dir).ReadFrom(JobFiles(a.job.job_dir).LogPath(), 0), 1);
      while (!tail.empty() && tail.back() == '\n') tail.pop_back();
      a.last_failure = "worker " + std::to_string(w.index) + " " +
                       (st.state == launch::ProcessState::kGone ? std::string("vanished") : st.reason) +
                       (tail.empty() ? "" : " (last log line: " + tail + ")");
      spdlog::warn("job {}: {}", a.job.id, a.last_failure);
    }
    std::lock_guard lock(mu_);
    a.workers.erase(a.workers.begin() + static_cast<std::ptrdiff_t>(i));
    changed = true;
  }
  if (a.workers.empty()) {
    FinishElastic(a);
    return true;
  }
  if (done || a.kill_sent) return false;
  const ElasticSpec& e = a.job.spec.elastic;
  // A worker that keeps crashing would otherwise be replaced forever.
  if (a.worker_failures > e.max_workers + 2) {
    a.kill_sent = true;
    a.kill_reason = "failed: workers failed " + std::to_string(a.worker_failures) + " times; last: " + a.last_failure;
    a.kill_deadline = now + std::chrono::seconds(options_.default_kill_grace_s) + std::chrono::seconds(2);
    Terminate(a, false);
    return false;
  }
  int staying = 0;
  for (const Worker& w : a.workers) staying += w.leaving ? 0 : 1;
  if (staying >= std::min(e.min_workers, a.forced_workers > 0 ? a.forced_workers : e.min_workers)) {
    a.below_min_since.reset();
  } else if (!a.below_min_since) {
    a.below_min_since = now;
  } else if (now - *a.below_min_since >= std::chrono::seconds(e.min_wait_s)) {
    a.kill_sent = true;
    a.kill_reason = "failed: fewer than workers.min=" + std::to_string(e.min_workers) + " workers for " +
                    std::to_string(e.min_wait_s) + " s (no free slots)";
    a.kill_deadline = now + std::chrono::seconds(options_.default_kill_grace_s) + std::chrono::seconds(2);
    Terminate(a, false);
  }
  return false;
}

void JobRunner::FinishElastic(Active& a) {
  IngestFiles(a, true);
  const std::optional<std::string> done = deps_.rendezvous->Done(a.job.id);
  deps_.rendezvous->Close(a.job.id);
  Job before = a.job;
  Job& job = a.job;
  job.finished_at = deps_.clock.NowMillis();
  if (done == "ok") {
    job.state = JobState::kCompleted;
    job.exit_code = 0;
    job.reason.clear();
  } else if (a.kill_reason.starts_with("failed: ")) {
    job.state = JobState::kFailed;
    job.exit_code = 1;
    job.reason = a.kill_reason.substr(8);
  } else if (!a.kill_reason.empty()) {
    job.state = JobState::kKilled;
    job.exit_code = 143;
    job.reason = a.kill_reason;
  } else {
    job.state = JobState::kFailed;
    job.exit_code = 1;
    job.reason = a.last_failure.empty() ? "every worker left before training finished" : a.last_failure;
  }
  if (Status s = deps_.store.UpdateJob(job, before.state); !s.ok()) {
    spdlog::error("job {}: cannot record the end ({}): {}", job.id, JobStateName(job.state), s.ToString());
  }
  (void)deps_.auth.RevokeJobTokens(job.id);
  spdlog::info("job {} {} {}", job.id, JobStateName(job.state), job.reason);
}

void JobRunner::RecoverElastic(Job& job) {
  // The rendezvous lived in the previous server's memory: stop what is left of the workers and
  // queue the job again; it resumes from its last checkpoint (StartElastic).
  JobFiles files(job.job_dir);
  int stopped = 0;
  for (const auto& path : OldWorkerFiles(files, "handle")) {
    if (auto handle = files.ReadHandle(path)) {
      (void)deps_.launcher.Terminate(*handle, /*force=*/true);
      ++stopped;
    }
  }
  Job before = job;
  job.state = JobState::kQueued;
  job.allocation = {};
  job.started_at = 0;
  job.pid = 0;
  job.pid_start_ticks = 0;
  job.reason = "re-queued after a server restart (" + std::to_string(stopped) +
               " worker(s) stopped); it resumes from its last checkpoint";
  if (Status s = deps_.store.UpdateJob(job, before.state); !s.ok()) {
    spdlog::error("job {}: cannot re-queue: {}", job.id, s.ToString());
  }
}

}  // namespace stoke::service
