#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

// Domain types shared by store, sched, launch and service. No JSON or HTTP here:
// the api/ layer converts these to and from wire formats.
namespace stoke {

using JobId = int64_t;

enum class JobState {
  kQueued,
  kStarting,
  kRunning,
  kCompleted,  // exit code 0
  kFailed,     // non-zero exit, signal, or could not start
  kKilled,     // a user or the system asked it to stop
  kLost,       // its processes vanished while the server was not watching
};

std::string_view JobStateName(JobState state);          // "QUEUED", ...
std::optional<JobState> ParseJobState(std::string_view name);
bool IsTerminal(JobState state);

// What a job asks of the pool.
struct Resources {
  int gpus = 0;
  int cpus = 1;
  int64_t memory_bytes = 0;  // 0 = no limit asked
  bool operator==(const Resources&) const = default;
};

// The slots a job was given: CPU slot indexes and GPU device indexes.
struct Allocation {
  std::vector<int> cpus;
  std::vector<int> gpus;
  bool empty() const { return cpus.empty() && gpus.empty(); }
  bool operator==(const Allocation&) const = default;
};

enum class JobType { kCommand, kElastic };
std::string_view JobTypeName(JobType type);

// What an elastic training job adds: how many stoke-worker processes (each with the job's
// `resources`) and what they train. The job's argv holds the worker's training flags.
struct ElasticSpec {
  int min_workers = 1;
  int max_workers = 1;
  int64_t min_wait_s = 120;  // below min_workers this long (no slots) -> FAILED
  std::string train_json;    // the submitted "train" object, shown back by the API
  bool operator==(const ElasticSpec&) const = default;
};

// What the user submitted. Immutable once accepted.
struct JobSpec {
  JobType type = JobType::kCommand;
  std::string name;
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  Resources resources;
  int priority = 0;              // higher runs first; -1000..1000
  int64_t max_runtime_s = 0;     // 0 = unlimited
  std::string working_dir;       // empty = the job's own work/ directory
  std::string hparams_json;      // JSON object text written to $STOKE_HPARAMS; "{}" when none
  bool has_code_archive = false; // working dir was filled from an uploaded archive
  ElasticSpec elastic;           // type == kElastic only
};

// One worker process of a running elastic job (a live view; not stored).
struct WorkerProcess {
  int index = 0;
  int64_t pid = 0;  // the worker's supervisor; the worker is its only child
  Allocation unit;
  bool leaving = false;
  bool operator==(const WorkerProcess&) const = default;
};

// A job as the store keeps it.
struct Job {
  JobId id = 0;
  std::string user;
  JobSpec spec;
  JobState state = JobState::kQueued;
  std::optional<int> exit_code;
  std::string reason;             // why it ended (or is waiting), in words
  UnixMillis created_at = 0;
  UnixMillis started_at = 0;      // 0 = not yet
  UnixMillis finished_at = 0;     // 0 = not yet
  Allocation allocation;
  int64_t pid = 0;                // the job's supervisor process (session leader)
  int64_t pid_start_ticks = 0;    // /proc/<pid>/stat starttime, so a reused pid is not mistaken
  std::string job_dir;            // <data-dir>/jobs/<id>
  std::vector<WorkerProcess> workers;  // running elastic jobs: filled by the service, not stored
};

}  // namespace stoke
