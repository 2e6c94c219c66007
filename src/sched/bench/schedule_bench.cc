// Cost of one scheduling cycle on a busy pool: 256 CPU slots, 64 GPUs, 20 users, a mix of command
// and elastic jobs, with a queue of the benchmark's argument.
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "sched/scheduler.h"

namespace stoke::sched {
namespace {

SchedulingInput BusyPool(int queue_length) {
  std::mt19937_64 rng(7);
  auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  SchedulingInput in;
  in.now = 1'700'000'000'000;
  in.pool.cpu_slots = 256;
  for (int g = 0; g < 64; ++g) in.pool.gpus.push_back(g);
  in.policy.preempt_lower_priority = true;
  // 48 running one-GPU jobs on GPUs 0..47 and CPU slots 0..95, some elastic.
  JobId id = 1;
  for (int i = 0; i < 48; ++i, ++id) {
    RunningJob job{.id = id, .user = "u" + std::to_string(i % 20), .priority = pick(0, 3),
                   .per_unit = Resources{.gpus = 1, .cpus = 2}, .units = {Allocation{{2 * i, 2 * i + 1}, {i}}}};
    if (i % 4 == 0) job.max_units = 4;
    job.expected_end = i % 2 == 0 ? in.now + pick(1, 3600) * 1000 : 0;
    in.running.push_back(job);
  }
  for (int i = 0; i < queue_length; ++i, ++id) {
    PendingJob job{.id = id, .user = "u" + std::to_string(pick(0, 19)), .priority = pick(0, 3), .seq = i,
                   .per_unit = Resources{.gpus = pick(0, 2), .cpus = pick(1, 4)}};
    job.min_units = pick(1, 2);
    if (i % 5 == 0) job.max_units = job.min_units + 2;
    job.max_runtime_s = i % 3 == 0 ? pick(60, 7200) : 0;
    in.queue.push_back(job);
  }
  return in;
}

void BM_ScheduleCycle(benchmark::State& state) {
  const SchedulingInput in = BusyPool(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    Result<Decision> d = Schedule(in);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ScheduleCycle)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace stoke::sched

BENCHMARK_MAIN();
