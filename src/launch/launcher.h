#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/job.h"
#include "common/status.h"

namespace stoke::launch {

// Everything needed to start one job's command under a supervisor process.
struct LaunchSpec {
  JobId job_id = 0;
  std::vector<std::string> argv;               // argv[0] is looked up in the job env's PATH
  std::map<std::string, std::string> env;      // the complete environment of the job
  std::string working_dir;                     // empty = inherit the supervisor's (not recommended)
  std::string log_path;                        // stdout+stderr, opened in append mode
  std::string status_path;                     // exit-status file, written atomically at the end
  std::vector<int> cpu_cores;                  // empty = no pinning
  int64_t memory_bytes = 0;                    // 0 = no limit
  int grace_seconds = 10;                      // SIGTERM → SIGKILL delay when stopping the tree
  // When no cgroup is usable, limit the address space with RLIMIT_AS instead. Turn off for GPU jobs:
  // CUDA reserves huge virtual ranges and fails under an address-space limit.
  bool rlimit_fallback = true;
};

// Identifies the job's supervisor across server restarts (store it with the job).
struct ProcessHandle {
  int64_t pid = 0;
  int64_t start_ticks = 0;  // /proc/<pid>/stat starttime: guards against pid reuse
  bool operator==(const ProcessHandle&) const = default;
};

struct LaunchResult {
  ProcessHandle handle;       // the supervisor
  int64_t child_pid = 0;      // the job's main process (its own process group leader)
  std::string memory_enforcement;  // "cgroup", "rlimit" or "none"
  std::string exec_error;     // non-empty when the command could not be started (status file says so too)
};

// How a job's process tree ended, as the supervisor recorded it.
enum class ExitKind {
  kExited,           // main process exited on its own; exit_code is its code
  kSignaled,         // main process died of a signal it was not asked to take; exit_code = 128 + signal
  kKilledByRequest,  // Terminate() (SIGTERM to the supervisor) stopped it
  kExecFailed,       // the command could not be started; exit_code 127, reason says why
};

enum class ProcessState { kRunning, kExited, kGone };

struct ProcessStatus {
  ProcessState state = ProcessState::kGone;
  ExitKind exit_kind = ExitKind::kExited;  // meaningful for kExited
  int exit_code = 0;
  int signal = 0;
  std::string reason;  // in words; for kGone, why no result is known
};

// Starts, watches and stops job process trees. Implementations are thread-safe.
class Launcher {
 public:
  virtual ~Launcher() = default;
  // Returns once the supervisor runs and the command was exec'd (or failed to exec).
  virtual Result<LaunchResult> Launch(const LaunchSpec& spec) = 0;
  // Works on handles from other instances / earlier server runs.
  virtual ProcessStatus Poll(const ProcessHandle& handle, const std::string& status_path) = 0;
  // force=false: SIGTERM to the supervisor, which stops the tree (grace, then SIGKILL) and records it.
  // force=true: SIGKILL every descendant now, then the supervisor if it does not exit promptly.
  // OK when the process is already gone.
  virtual Status Terminate(const ProcessHandle& handle, bool force) = 0;
};

}  // namespace stoke::launch
