// Measures LocalLauncher::Launch latency (supervisor spawned + job command exec'd) for a trivial
// command. Usage: stoke_launch_latency [runs=200] [scratch_dir=/tmp]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "launch/local_launcher.h"

int main(int argc, char** argv) {
  using namespace stoke::launch;
  int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  std::string dir = argc > 2 ? argv[2] : "/tmp";
  LocalLauncherOptions options;
  options.supervisor_exe = STOKE_SUPERVISOR_EXE;
  options.supervisor_args_prefix = {};
  auto launcher = LocalLauncher::Create(options);
  if (!launcher) {
    std::fprintf(stderr, "%s\n", launcher.error().ToString().c_str());
    return 1;
  }
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    LaunchSpec spec;
    spec.job_id = i;
    spec.argv = {"true"};
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    spec.working_dir = dir;
    spec.log_path = dir + "/stoke-latency.log";
    spec.status_path = dir + "/stoke-latency.status";
    auto start = std::chrono::steady_clock::now();
    auto result = (*launcher)->Launch(spec);
    auto end = std::chrono::steady_clock::now();
    if (!result) {
      std::fprintf(stderr, "%s\n", result.error().ToString().c_str());
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    while ((*launcher)->Poll(result->handle, spec.status_path).state == ProcessState::kRunning) {
    }
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))]; };
  std::printf("launch latency over %d runs: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", runs,
              at(0.5), at(0.9), at(0.99), ms.back());
  return 0;
}
