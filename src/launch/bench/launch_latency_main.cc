// Measures LocalLauncher::Launch latency (supervisor spawned + job command exec'd) for a trivial
// command, next to the cost of bare process starts measured in the same run, so the figures can be
// read on a loaded machine. Usage: stoke_launch_latency [runs=200] [scratch_dir=/tmp] [supervisor_exe]
// (a supervisor_exe other than stoke-supervisor must run SupervisorMain with no argument prefix).
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "launch/local_launcher.h"
#include "launch/proc_table.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

void Report(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))]; };
  std::printf("%-44s p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms\n", what, at(0.5), at(0.9), at(0.99));
}

// posix_spawn + waitpid of `exe` with no arguments: the floor for one process start.
double SpawnAndWait(const char* exe) {
  auto start = Clock::now();
  const char* argv[] = {exe, nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, exe, nullptr, nullptr, const_cast<char**>(argv), environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void WaitGone(pid_t pid) {
  int fd = stoke::launch::OpenPidFd(pid);
  if (fd < 0) return;
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  poll(&p, 1, 10'000);
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace stoke::launch;
  int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  std::string dir = argc > 2 ? argv[2] : "/tmp";
  LocalLauncherOptions options;
  const char* supervisor = argc > 3 ? argv[3] : STOKE_SUPERVISOR_EXE;
  options.supervisor_exe = supervisor;
  options.supervisor_args_prefix = {};
  auto launcher = LocalLauncher::Create(options);
  if (!launcher) {
    std::fprintf(stderr, "%s\n", launcher.error().ToString().c_str());
    return 1;
  }
  std::vector<double> launch_ms, true_ms, supervisor_ms;
  for (int i = 0; i < runs; ++i) {
    LaunchSpec spec;
    spec.job_id = i;
    spec.argv = {"true"};
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    spec.working_dir = dir;
    spec.log_path = dir + "/stoke-latency.log";
    spec.status_path = dir + "/stoke-latency.status";
    auto start = Clock::now();
    auto result = (*launcher)->Launch(spec);
    launch_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!result) {
      std::fprintf(stderr, "%s\n", result.error().ToString().c_str());
      return 1;
    }
    WaitGone(static_cast<pid_t>(result->handle.pid));
    (*launcher)->Poll(result->handle, spec.status_path);  // reaps
    true_ms.push_back(SpawnAndWait("/bin/true"));
    // Without a control socket the supervisor binary exits at once: its load time alone.
    supervisor_ms.push_back(SpawnAndWait(supervisor));
  }
  std::printf("%d runs, load average at end: ", runs);
  std::fflush(stdout);
  std::system("cut -d' ' -f1-3 /proc/loadavg");
  Report("Launch() of `true` (supervisor + job exec)", launch_ms);
  Report("baseline: spawn+wait /bin/true", true_ms);
  Report("baseline: spawn+wait supervisor binary", supervisor_ms);
  return 0;
}
