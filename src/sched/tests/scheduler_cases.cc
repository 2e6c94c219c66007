#include "sched/tests/scheduler_cases.h"

namespace stoke::sched::testing {
namespace {

SchedulingInput Input(Pool pool, std::vector<RunningJob> running, std::vector<PendingJob> queue, Policy policy = {}) {
  return SchedulingInput{.pool = std::move(pool), .running = std::move(running), .queue = std::move(queue),
                         .now = kNow, .policy = policy};
}

auto Elastic(int min_units, int max_units) {
  return [=](auto& job) {
    job.min_units = min_units;
    job.max_units = max_units;
  };
}

auto Runtime(int64_t seconds) {
  return [=](PendingJob& job) { job.max_runtime_s = seconds; };
}

Policy PreemptOn() { return Policy{.preempt_lower_priority = true}; }

// Running job 1 holds 3 of the 4 GPUs; job 2 wants more than is free.
std::vector<RunningJob> ThreeGpusBusy(UnixMillis expected_end) {
  return {With(Running(1, R(3, 3), {A({0, 1, 2}, {0, 1, 2})}), [=](RunningJob& j) { j.expected_end = expected_end; })};
}

// An elastic job of alice's on all four GPUs.
RunningJob ElasticOnAllGpus(int priority) {
  return With(Running(1, R(1, 1), {A({0}, {0}), A({1}, {1}), A({2}, {2}), A({3}, {3})}, "alice", priority),
              Elastic(1, 4));
}

}  // namespace

std::vector<Case> SchedulerCases() {
  std::vector<Case> cases;

  // --- gang allocation ---
  cases.push_back({"GangJobWaitsForAllItsSlots",
                   Input(Pool{.cpu_slots = 4}, {Running(1, R(0, 3), {A({0, 1, 2})})},
                         {Pending(2, 1, R(0, 2)), With(Pending(3, 2, R(0, 1)), Elastic(2, 4))}),
                   Decision{.waiting_reason = {{2, "needs 2 CPU slots, 1 free"}, {3, "needs 2 CPU slots, 1 free"}},
                            .reservation = Reservation{2, 0}}});
  cases.push_back({"GangJobGetsEveryUnit", Input(Pool4Gpus(), {}, {With(Pending(1, 1, R(1, 2)), Elastic(2, 2))}),
                   Decision{.start = {{1, {A({0, 1}, {0}), A({2, 3}, {1})}}}}});

  // --- priority and submit order ---
  cases.push_back({"HigherPriorityFirst",
                   Input(Pool{.cpu_slots = 8, .gpus = {0, 1}}, {},
                         {Pending(1, 1, R(2), "alice", 0), Pending(2, 2, R(2), "alice", 5)}),
                   Decision{.start = {{2, {A({0}, {0, 1})}}},
                            .waiting_reason = {{1, "needs 2 GPUs, 0 free"}},
                            .reservation = Reservation{1, 0}}});
  cases.push_back({"SubmitOrderAtEqualPriority",
                   Input(Pool{.cpu_slots = 8, .gpus = {0}}, {}, {Pending(5, 2, R(1)), Pending(9, 1, R(1))}),
                   Decision{.start = {{9, {A({0}, {0})}}},
                            .waiting_reason = {{5, "needs 1 GPU, 0 free"}},
                            .reservation = Reservation{5, 0}}});
  cases.push_back(
      {"InfeasibleAndInvalidJobsNeverBlock",
       Input(Pool4Gpus(), {},
             {Pending(1, 1, R(8)), With(Pending(3, 2, R(1)), [](PendingJob& j) { j.min_units = 0; }),
              Pending(2, 3, R(1))}),
       Decision{.start = {{2, {A({0}, {0})}}},
                .waiting_reason = {{1, "infeasible: needs 8 GPUs, pool has 4"},
                                   {3, "infeasible: invalid request (units must be 1..65536, resources not negative)"}}}});

  // --- backfill ---
  cases.push_back({"BackfillBesideHeadWhenEndsUnknown",
                   Input(Pool4Gpus(), ThreeGpusBusy(0), {Pending(2, 1, R(2, 2)), Pending(3, 2, R(0, 1)), Pending(4, 3, R(1, 1))}),
                   Decision{.start = {{3, {A({3})}}},
                            .waiting_reason = {{2, "needs 2 GPUs, 1 free"}, {4, "reserved for job 2 (backfill)"}},
                            .reservation = Reservation{2, 0}}});
  cases.push_back({"NoBackfillWhenDisabled",
                   Input(Pool4Gpus(), ThreeGpusBusy(0), {Pending(2, 1, R(2, 2)), Pending(3, 2, R(0, 1)), Pending(4, 3, R(1, 1))},
                         Policy{.backfill = false}),
                   Decision{.waiting_reason = {{2, "needs 2 GPUs, 1 free"},
                                               {3, "reserved for job 2 (backfill)"},
                                               {4, "reserved for job 2 (backfill)"}},
                            .reservation = Reservation{2, 0}}});
  cases.push_back({"BackfillWithKnownEnds",
                   Input(Pool4Gpus(), ThreeGpusBusy(kNow + 3'600'000),
                         {Pending(2, 1, R(4, 4)), Pending(3, 2, R(0, 1)), With(Pending(5, 3, R(1, 1)), Runtime(7200)),
                          With(Pending(4, 4, R(1, 1)), Runtime(600))}),
                   Decision{.start = {{3, {A({3})}}, {4, {A({4}, {3})}}},
                            .waiting_reason = {{2, "needs 4 GPUs, 1 free"}, {5, "reserved for job 2 (backfill)"}},
                            .reservation = Reservation{2, kNow + 3'600'000}}});
  cases.push_back({"BackfillCountsRuntimeOfJobsStartedThisCycle",
                   Input(Pool{.cpu_slots = 8, .gpus = {0, 1}}, {},
                         {With(Pending(1, 1, R(1, 1)), Runtime(100)), Pending(2, 2, R(2, 1)),
                          With(Pending(3, 3, R(1, 1)), Runtime(50)), Pending(4, 4, R(1, 1))}),
                   Decision{.start = {{1, {A({0}, {0})}}, {3, {A({1}, {1})}}},
                            .waiting_reason = {{2, "needs 2 GPUs, 1 free"}, {4, "needs 1 GPU, 0 free"}},
                            .reservation = Reservation{2, kNow + 100'000}}});
  cases.push_back({"BehindHigherPriorityJob",
                   Input(Pool{.cpu_slots = 8, .gpus = {0, 1}}, {Running(1, R(1, 1), {A({0}, {0})})},
                         {Pending(2, 1, R(2, 1), "bob", 10), Pending(3, 2, R(1, 1), "carol", 0)}),
                   Decision{.waiting_reason = {{2, "needs 2 GPUs, 1 free"}, {3, "behind higher-priority job 2"}},
                            .reservation = Reservation{2, 0}}});

  // --- fair share (dominant resource fairness) ---
  const std::vector<PendingJob> two_users = {Pending(2, 1, R(1), "alice"), Pending(3, 2, R(1), "alice"),
                                             Pending(4, 3, R(1), "bob"), Pending(5, 4, R(1), "bob"),
                                             Pending(6, 5, R(1), "bob")};
  cases.push_back({"FairShareServesLowestDominantShare",
                   Input(Pool4Gpus(), {Running(1, R(2, 2), {A({0, 1}, {0, 1})}, "alice")}, two_users),
                   Decision{.start = {{4, {A({2}, {2})}}, {5, {A({3}, {3})}}},
                            .waiting_reason = {{2, "needs 1 GPU, 0 free"},
                                               {3, "needs 1 GPU, 0 free"},
                                               {6, "needs 1 GPU, 0 free"}},
                            .reservation = Reservation{2, 0}}});
  cases.push_back({"WithoutFairShareSubmitOrderOnly",
                   Input(Pool4Gpus(), {Running(1, R(2, 2), {A({0, 1}, {0, 1})}, "alice")}, two_users,
                         Policy{.fair_share = false}),
                   Decision{.start = {{2, {A({2}, {2})}}, {3, {A({3}, {3})}}},
                            .waiting_reason = {{4, "needs 1 GPU, 0 free"},
                                               {5, "needs 1 GPU, 0 free"},
                                               {6, "needs 1 GPU, 0 free"}},
                            .reservation = Reservation{4, 0}}});
  cases.push_back({"FairShareRotatesThreeUsers",
                   Input(Pool{.cpu_slots = 5}, {},
                         {Pending(1, 1, R(0), "a"), Pending(2, 2, R(0), "a"), Pending(3, 3, R(0), "a"),
                          Pending(4, 4, R(0), "b"), Pending(5, 5, R(0), "b"), Pending(6, 6, R(0), "c")}),
                   Decision{.start = {{1, {A({0})}}, {4, {A({1})}}, {6, {A({2})}}, {2, {A({3})}}, {5, {A({4})}}},
                            .waiting_reason = {{3, "needs 1 CPU slot, 0 free"}},
                            .reservation = Reservation{3, 0}}});

  // --- elastic jobs ---
  cases.push_back({"ElasticStartsAtMinAndGrowsAfterTheQueue",
                   Input(Pool4Gpus(), {}, {With(Pending(1, 1, R(1, 1)), Elastic(1, 8)), Pending(2, 2, R(1, 1))}),
                   Decision{.start = {{1, {A({0}, {0}), A({2}, {2}), A({3}, {3})}}, {2, {A({1}, {1})}}}}});
  cases.push_back(
      {"ElasticGrowsHighestPriorityFirst",
       Input(Pool4Gpus(),
             {With(Running(1, R(1, 1), {A({0}, {0})}, "alice", 0), Elastic(1, 4)),
              With(Running(2, R(1, 1), {A({1}, {1})}, "bob", 1), Elastic(1, 2))},
             {}),
       Decision{.resize = {{1, {A({3}, {3})}, {}}, {2, {A({2}, {2})}, {}}}}});
  cases.push_back(
      {"ElasticGrowsFairlyBetweenUsers",
       Input(Pool{.cpu_slots = 8, .gpus = {0, 1, 2, 3, 4, 5}},
             {With(Running(1, R(1, 1), {A({0}, {0})}, "alice"), Elastic(1, 4)),
              With(Running(2, R(1, 1), {A({1}, {1})}, "bob"), Elastic(1, 4))},
             {}),
       Decision{.resize = {{1, {A({2}, {2}), A({4}, {4})}, {}}, {2, {A({3}, {3}), A({5}, {5})}, {}}}}});
  cases.push_back({"ElasticDoesNotGrowIntoTheReservation",
                   Input(Pool4Gpus(),
                         {Running(1, R(2, 2), {A({0, 1}, {0, 1})}, "alice"),
                          With(Running(2, R(1, 1), {A({2}, {2})}, "bob"), Elastic(1, 4))},
                         {Pending(3, 1, R(3, 3), "carol")}),
                   Decision{.waiting_reason = {{3, "needs 3 GPUs, 1 free"}}, .reservation = Reservation{3, 0}}});
  cases.push_back({"ElasticShrinksForHigherPriority",
                   Input(Pool4Gpus(), {ElasticOnAllGpus(0)}, {Pending(2, 1, R(2, 2), "bob", 5)}),
                   Decision{.start = {{2, {A({2, 3}, {2, 3})}}}, .resize = {{1, {}, {3, 2}}}}});
  cases.push_back({"ElasticShrinksForUserBelowFairShare",
                   Input(Pool4Gpus(), {ElasticOnAllGpus(0)}, {Pending(2, 1, R(1, 1), "bob", 0)}),
                   Decision{.start = {{2, {A({3}, {3})}}}, .resize = {{1, {}, {3}}}}});
  cases.push_back({"ElasticDoesNotShrinkForSameUserAtEqualPriority",
                   Input(Pool4Gpus(), {ElasticOnAllGpus(0)}, {Pending(2, 1, R(1, 1), "alice", 0)}),
                   Decision{.waiting_reason = {{2, "needs 1 GPU, 0 free"}}, .reservation = Reservation{2, 0}}});
  cases.push_back({"ElasticDoesNotShrinkForUserAtEqualShare",
                   Input(Pool4Gpus(),
                         {With(Running(1, R(1, 1), {A({0}, {0}), A({1}, {1})}, "alice"), Elastic(1, 4)),
                          Running(2, R(2, 2), {A({2, 3}, {2, 3})}, "bob")},
                         {Pending(3, 1, R(1, 1), "bob")}),
                   Decision{.waiting_reason = {{3, "needs 1 GPU, 0 free"}}, .reservation = Reservation{3, 0}}});
  cases.push_back({"ElasticDoesNotShrinkForLowerPriority",
                   Input(Pool4Gpus(), {ElasticOnAllGpus(5)}, {Pending(2, 1, R(1, 1), "bob", 0)}),
                   Decision{.waiting_reason = {{2, "needs 1 GPU, 0 free"}}, .reservation = Reservation{2, 0}}});
  cases.push_back(
      {"ElasticShrinksLowestPriorityFirst",
       Input(Pool4Gpus(),
             {With(Running(1, R(1, 1), {A({0}, {0}), A({1}, {1})}, "alice", 3), Elastic(1, 2)),
              With(Running(2, R(1, 1), {A({2}, {2}), A({3}, {3})}, "bob", 1), Elastic(1, 2))},
             {Pending(3, 1, R(1, 1), "carol", 5)}),
       Decision{.start = {{3, {A({3}, {3})}}}, .resize = {{2, {}, {1}}}}});
  cases.push_back({"ElasticNeverShrinksBelowMin",
                   Input(Pool4Gpus(), {With(ElasticOnAllGpus(0), Elastic(3, 4))}, {Pending(2, 1, R(2, 1), "bob", 5)}),
                   Decision{.waiting_reason = {{2, "needs 2 GPUs, 0 free"}}, .reservation = Reservation{2, 0}}});

  cases.push_back({"ElasticBelowMinIsRestoredFirstAfterTheQueue",
                   Input(Pool4Gpus(),
                         {With(Running(1, R(1, 1), {A({0}, {0})}, "alice", 0), Elastic(2, 4)),
                          With(Running(3, R(1, 1), {A({3}, {3})}, "carol", 5), Elastic(1, 4))},
                         {Pending(2, 1, R(1, 1), "bob", 9)}),
                   Decision{.start = {{2, {A({1}, {1})}}}, .resize = {{1, {A({2}, {2})}, {}}}}});

  // --- preemption ---
  const std::vector<RunningJob> one_low_job = {Running(1, R(2, 1), {A({0}, {0, 1})}, "alice", 0)};
  const std::vector<PendingJob> one_high_job = {Pending(2, 1, R(2, 1), "bob", 10)};
  cases.push_back({"NoPreemptionByDefault", Input(Pool{.cpu_slots = 8, .gpus = {0, 1}}, one_low_job, one_high_job),
                   Decision{.waiting_reason = {{2, "needs 2 GPUs, 0 free"}}, .reservation = Reservation{2, 0}}});
  cases.push_back({"PreemptsLowerPriorityWhenEnabled",
                   Input(Pool{.cpu_slots = 8, .gpus = {0, 1}}, one_low_job, one_high_job, PreemptOn()),
                   Decision{.preempt = {1},
                            .waiting_reason = {{2, "waiting for job 1 to stop"}},
                            .reservation = Reservation{2, kNow}}});
  cases.push_back({"NeverPreemptsEqualPriority",
                   Input(Pool{.cpu_slots = 8, .gpus = {0, 1}}, one_low_job, {Pending(2, 1, R(2, 1), "bob", 0)}, PreemptOn()),
                   Decision{.waiting_reason = {{2, "needs 2 GPUs, 0 free"}}, .reservation = Reservation{2, 0}}});
  const std::vector<RunningJob> three_victims = {
      With(Running(1, R(1, 1), {A({0}, {0})}, "a", 0), [](RunningJob& j) { j.started_at = 100; }),
      With(Running(2, R(1, 1), {A({1}, {1})}, "b", 0), [](RunningJob& j) { j.started_at = 200; }),
      With(Running(3, R(2, 2), {A({2, 3}, {2, 3})}, "c", 2), [](RunningJob& j) { j.started_at = 50; })};
  cases.push_back({"PreemptsFewestJobs",
                   Input(Pool4Gpus(), three_victims, {Pending(4, 1, R(2, 2), "d", 5)}, PreemptOn()),
                   Decision{.preempt = {3},
                            .waiting_reason = {{4, "waiting for job 3 to stop"}},
                            .reservation = Reservation{4, kNow}}});
  cases.push_back({"PreemptsLowestPriorityNewestFirst",
                   Input(Pool4Gpus(), three_victims, {Pending(4, 1, R(1, 1), "d", 5)}, PreemptOn()),
                   Decision{.preempt = {2},
                            .waiting_reason = {{4, "waiting for job 2 to stop"}},
                            .reservation = Reservation{4, kNow}}});
  cases.push_back({"PreemptedSlotsAreNotReusedThisCycle",
                   Input(Pool{.cpu_slots = 8, .gpus = {0, 1, 2}}, {Running(1, R(2, 2), {A({0, 1}, {0, 1})}, "a", 0)},
                         {Pending(2, 1, R(2, 2), "b", 9), Pending(3, 2, R(1, 1), "c", 0), Pending(4, 3, R(1, 1), "c", 0)},
                         PreemptOn()),
                   Decision{.start = {{3, {A({2}, {2})}}},
                            .preempt = {1},
                            .waiting_reason = {{2, "waiting for job 1 to stop"}, {4, "needs 1 GPU, 0 free"}},
                            .reservation = Reservation{2, kNow}}});
  cases.push_back({"StoppingJobIsNotPreemptedAgain",
                   Input(Pool{.cpu_slots = 8, .gpus = {0, 1}},
                         {With(Running(1, R(2, 1), {A({0}, {0, 1})}, "alice", 0), [](RunningJob& j) { j.stopping = true; })},
                         one_high_job, PreemptOn()),
                   Decision{.waiting_reason = {{2, "waiting for job 1 to stop"}}, .reservation = Reservation{2, kNow}}});
  cases.push_back({"PreemptsWholeElasticJobWhenShrinkIsNotEnough",
                   Input(Pool4Gpus(), {With(ElasticOnAllGpus(0), Elastic(2, 4))}, {Pending(2, 1, R(4, 1), "bob", 5)},
                         PreemptOn()),
                   Decision{.preempt = {1},
                            .waiting_reason = {{2, "waiting for job 1 to stop"}},
                            .reservation = Reservation{2, kNow}}});

  cases.push_back(
      {"JobShrunkThisCycleCanStillBePreempted",
       Input(Pool4Gpus(),
             {With(Running(1, R(1, 1), {A({0}, {0}), A({1}, {1}), A({2}, {2})}, "alice"), Elastic(1, 4)),
              Running(2, R(1, 1), {A({3}, {3})}, "alice")},
             {Pending(3, 1, R(1, 1), "bob", 5), Pending(4, 2, R(3, 1), "bob", 5)}, PreemptOn()),
       Decision{.start = {{3, {A({2}, {2})}}},
                .resize = {{1, {}, {2}}},
                .preempt = {1, 2},
                .waiting_reason = {{4, "waiting for jobs 1, 2 to stop"}},
                .reservation = Reservation{4, kNow}}});

  // --- placement and memory ---
  cases.push_back({"MemoryIsAccountedWhenThePoolHasIt",
                   Input(Pool{.cpu_slots = 8, .memory_bytes = 16 * kGiB}, {},
                         {Pending(1, 1, R(0, 1, 12 * kGiB)), Pending(2, 2, R(0, 1, 8 * kGiB))}),
                   Decision{.start = {{1, {A({0})}}},
                            .waiting_reason = {{2, "needs 8.0 GiB memory, 4.0 GiB free"}},
                            .reservation = Reservation{2, 0}}});
  cases.push_back({"MemoryIsIgnoredWhenThePoolHasNone",
                   Input(Pool{.cpu_slots = 8}, {}, {Pending(1, 1, R(0, 1, 12 * kGiB)), Pending(2, 2, R(0, 1, 8 * kGiB))}),
                   Decision{.start = {{1, {A({0})}}, {2, {A({1})}}}}});
  cases.push_back({"LowestGpuDeviceIndexesFirst",
                   Input(Pool{.cpu_slots = 4, .gpus = {7, 2, 5}}, {}, {Pending(1, 1, R(2, 1))}),
                   Decision{.start = {{1, {A({0}, {2, 5})}}}}});
  cases.push_back({"ContiguousCpuRunsFirst",
                   Input(Pool{.cpu_slots = 8}, {Running(1, R(0, 2), {A({1, 4})})},
                         {Pending(2, 1, R(0, 3)), Pending(3, 2, R(0, 2)), Pending(4, 3, R(0, 1))}),
                   Decision{.start = {{2, {A({5, 6, 7})}}, {3, {A({2, 3})}}, {4, {A({0})}}}}});
  return cases;
}

}  // namespace stoke::sched::testing
