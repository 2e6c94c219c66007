#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/job.h"
#include "ingest/emetrics_parser.h"
#include "launch/launcher.h"
#include "sched/scheduler.h"
#include "service/auth_service.h"
#include "service/pool.h"
#include "store/store.h"

namespace stoke::service {

// A point-in-time view of who holds what, for /api/v1/cluster and /metrics.
struct ClusterSnapshot {
  PoolConfig pool;
  std::vector<Job> running;   // STARTING and RUNNING
  std::vector<Job> queued;    // in scheduling order
  std::map<JobId, std::string> waiting_reason;
};

// Drives jobs through their lives: places queued jobs with the pure scheduler, launches them,
// watches their processes, enforces max runtime and kill grace, ingests WMLA metric files, and
// records every transition in the store before acting on the next. One loop thread does all of
// it, so job transitions never race; public methods are thread-safe and only enqueue work.
class JobRunner {
 public:
  struct Deps {
    store::Store& store;
    launch::Launcher& launcher;
    AuthService& auth;
    const Clock& clock;
  };
  struct Options {
    std::string data_dir;
    std::string api_url;        // what jobs get in $STOKE_API
    PoolConfig pool;
    int poll_interval_ms = 50;
    int ingest_interval_ms = 1000;
    int default_kill_grace_s = 10;
  };

  JobRunner(Deps deps, Options options);
  ~JobRunner();

  // Re-attaches jobs left running by a previous server, marks vanished ones LOST, re-queues jobs
  // that never started, then starts the loop.
  Status Start();
  void Stop();

  // Set once the HTTP port is bound, before Start().
  void SetApiUrl(std::string url) { options_.api_url = std::move(url); }

  // A job was queued: schedule soon.
  void Wake();
  // Ask a running job to stop (whole tree, SIGTERM then SIGKILL after grace_s).
  void RequestKill(JobId id, int grace_s, const std::string& by);
  bool IsActive(JobId id) const;
  // Why a queued job has not started, from the last scheduling cycle ("" when unknown).
  std::string WaitingReason(JobId id) const;

  ClusterSnapshot Snapshot() const;

 private:
  struct Active {
    Job job;
    launch::ProcessHandle handle;
    std::string status_path;
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::time_point kill_deadline{};  // when SIGKILL is due
    bool kill_sent = false;
    bool forced = false;
    std::string kill_reason;
    ingest::EmetricsParser emetrics;
    int64_t emetrics_offset = 0;
    std::chrono::steady_clock::time_point next_ingest{};
  };

  void Loop();
  void Recover();
  void ScheduleQueued();
  bool LaunchJob(Job job);
  void PollActive();
  void Finish(Active& active, const launch::ProcessStatus& status);
  void IngestFiles(Active& active, bool final);
  std::map<std::string, std::string> JobEnvironment(const Job& job, const std::string& job_token) const;
  void ApplyKills();

  Deps deps_;
  Options options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;
  bool stop_ = false;
  std::map<JobId, std::pair<int, std::string>> kill_requests_;  // GUARDED_BY(mu_): id -> (grace, by)
  std::map<JobId, Active> active_;                              // GUARDED_BY(mu_) for readers; loop writes
  std::vector<Job> queued_view_;                                // GUARDED_BY(mu_)
  std::map<JobId, std::string> waiting_reason_;                 // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace stoke::service
