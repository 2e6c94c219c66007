#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <optional>
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
#include "service/rendezvous_registry.h"
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
    RendezvousRegistry* rendezvous = nullptr;  // hosts elastic jobs' stores; null: no elastic jobs
  };
  struct Options {
    std::string data_dir;
    std::string api_url;        // what jobs get in $STOKE_API
    PoolConfig pool;
    int poll_interval_ms = 50;
    int ingest_interval_ms = 1000;
    int default_kill_grace_s = 10;
    std::string worker_exe;     // stoke-worker, for elastic jobs; empty: elastic jobs fail to start
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

  // Elastic jobs: force the number of workers to `workers` (stoke scale). Applied by the loop:
  // the newest workers leave at a step boundary, or the job grows when slots are free.
  // NotFound when the job is not running here.
  Status RequestScale(JobId id, int workers);
  bool SupportsElastic() const { return deps_.rendezvous != nullptr && !options_.worker_exe.empty(); }
  // The worker processes of a running elastic job (empty for anything else).
  std::vector<WorkerProcess> Workers(JobId id) const;

 private:
  // One stoke-worker process of an elastic job, on one scheduler unit.
  struct Worker {
    int index = 0;                // names its files: status-w<index>, handle-w<index>
    Allocation unit;
    launch::ProcessHandle handle;
    std::string status_path;
    bool leaving = false;         // asked to go (shrink or scale); holds its slots until it exits
  };
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
    // Elastic jobs only.
    std::vector<Worker> workers;
    int next_worker_index = 0;
    std::string token;             // the job token every worker gets
    int forced_workers = 0;        // stoke scale; 0 = the scheduler decides within min..max
    bool finishing = false;        // training is done (rank 0 said so): never grow it again
    int worker_failures = 0;
    std::string last_failure;
    std::optional<std::chrono::steady_clock::time_point> below_min_since;
    ingest::EmetricsParser worker_metrics{ingest::EmetricsParser::LineFormat::kFlat};
    int64_t worker_metrics_offset = 0;
  };

  void Loop();
  void Recover();
  void ScheduleQueued();
  bool LaunchJob(Job job, const std::vector<Allocation>& units);
  // Returns whether anything changed that the scheduler should look at (a job or worker ended).
  bool PollActive();
  void Finish(Active& active, const launch::ProcessStatus& status);
  void IngestFiles(Active& active, bool final);
  std::map<std::string, std::string> JobEnvironment(const Job& job, const std::string& job_token) const;
  void ApplyKills();
  void Terminate(Active& a, bool force);

  // Elastic jobs (job_runner_elastic.cc).
  bool StartElastic(Active& a, const std::vector<Allocation>& units);
  Status LaunchWorker(Active& a, const Allocation& unit, bool resume);
  // Polls the workers; true when the job has ended (recorded, rendezvous closed).
  bool PollElastic(Active& a, bool& changed);
  void FinishElastic(Active& a);
  void ApplyResize(const sched::Resize& resize);
  bool ApplyScaleRequests();  // true when any was applied
  // Whether a worker that was asked to leave still holds any of these slots.
  bool LeavingWorkersHold(const std::vector<Allocation>& units) const;
  void ApplyForcedScale(Active& a);
  void RecoverElastic(Job& job);
  sched::RunningJob ElasticRunningJob(const Active& a) const;

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
  std::map<JobId, int> scale_requests_;                         // GUARDED_BY(mu_): id -> workers
  std::thread thread_;
};

}  // namespace stoke::service
