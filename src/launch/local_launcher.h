#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "launch/launcher.h"

namespace stoke::launch {

struct LocalLauncherOptions {
  std::string supervisor_exe;  // the binary whose main() reaches SupervisorMain (the stoke binary)
  std::vector<std::string> supervisor_args_prefix = {"_supervise"};
  std::string cgroup_root;     // "" = auto-detect a writable cgroup v2 subtree, "none" = never use cgroups
  std::chrono::milliseconds start_timeout{10'000};  // supervisor handshake limit
};

// Options for the server: the `stoke-supervisor` program next to the running executable when it is
// there (fast start), else the running executable itself with the `_supervise` subcommand.
LocalLauncherOptions DefaultLocalLauncherOptions();

// Runs jobs on this machine, each under its own supervisor process (see supervisor.h).
// Thread-safe: Launch, Poll and Terminate may be called concurrently.
class LocalLauncher final : public Launcher {
 public:
  static Result<std::unique_ptr<LocalLauncher>> Create(LocalLauncherOptions options);

  Result<LaunchResult> Launch(const LaunchSpec& spec) override;
  ProcessStatus Poll(const ProcessHandle& handle, const std::string& status_path) override;
  Status Terminate(const ProcessHandle& handle, bool force) override;

  // The cgroup v2 directory job cgroups are created in; "" when memory limits fall back to rlimit.
  const std::string& cgroup_root() const { return cgroup_root_; }

 private:
  LocalLauncher(LocalLauncherOptions options, std::string cgroup_root)
      : options_(std::move(options)), cgroup_root_(std::move(cgroup_root)) {}
  // Collects exited supervisors this instance started, so no zombies pile up.
  void ReapChildren();

  const LocalLauncherOptions options_;
  const std::string cgroup_root_;
  std::mutex mu_;
  std::set<pid_t> children_;  // GUARDED_BY(mu_)
};

}  // namespace stoke::launch
