#pragma once

#include <memory>
#include <string>

#include "common/job.h"
#include "common/status.h"

namespace stoke::launch {

// Finds a cgroup v2 directory where job cgroups with a memory limit can be created: the memory
// controller is available there, the directory is writable, and its subtree_control has (or
// accepts) "+memory". Tries this process's own cgroup, then the cgroup2 mount's root.
// Returns "" when there is none (cgroup v1 only, no memory controller, not privileged).
// Free function; thread-safe.
std::string DetectCgroupRoot();

// One job's cgroup, `<root>/stoke-job-<id>`, owned by the supervisor. Not thread-safe.
class JobCgroup {
 public:
  // Creates the directory (removing a stale empty one of the same name) and writes memory.max
  // (and memory.swap.max=0, memory.oom.group=1 where present). memory_bytes 0 = no limit.
  static Result<std::unique_ptr<JobCgroup>> Create(const std::string& root, JobId job_id,
                                                   int64_t memory_bytes);
  ~JobCgroup();
  JobCgroup(const JobCgroup&) = delete;
  JobCgroup& operator=(const JobCgroup&) = delete;

  // An open cgroup.procs: a forked child writes "0" to it to move itself in before exec.
  int procs_fd() const { return procs_fd_; }
  const std::string& path() const { return path_; }
  // SIGKILLs every process in the cgroup (cgroup.kill, Linux >= 5.14); false when unsupported.
  bool KillAll();
  // Whether the kernel's OOM killer acted inside this cgroup (memory.events oom_kill > 0).
  bool OomKilled() const;
  // Removes the directory; it must be empty of processes.
  Status Remove();

 private:
  JobCgroup(std::string path, int procs_fd) : path_(std::move(path)), procs_fd_(procs_fd) {}
  std::string path_;
  int procs_fd_ = -1;
};

}  // namespace stoke::launch
