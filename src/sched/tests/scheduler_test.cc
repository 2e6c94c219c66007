#include "sched/scheduler.h"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "sched/tests/scheduler_cases.h"

namespace stoke::sched {
namespace {

using testing::A;
using testing::Case;
using testing::kNow;
using testing::Pending;
using testing::Pool4Gpus;
using testing::R;
using testing::Running;

class ScheduleTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(ScheduleTableTest, GivesExpectedDecision) {
  const Case& c = GetParam();
  Result<Decision> got = Schedule(c.in);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, c.want) << "got:\n" << ToString(*got) << "want:\n" << ToString(c.want);
}

INSTANTIATE_TEST_SUITE_P(Cases, ScheduleTableTest, ::testing::ValuesIn(testing::SchedulerCases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// Same input, in any order of running jobs and queue entries, gives the same decision.
TEST(ScheduleDeterminismTest, InputOrderDoesNotMatter) {
  std::mt19937_64 rng(20261126);
  for (const Case& c : testing::SchedulerCases()) {
    Result<Decision> first = Schedule(c.in);
    ASSERT_TRUE(first.has_value()) << c.name;
    for (int round = 0; round < 20; ++round) {
      SchedulingInput shuffled = c.in;
      std::shuffle(shuffled.running.begin(), shuffled.running.end(), rng);
      std::shuffle(shuffled.queue.begin(), shuffled.queue.end(), rng);
      std::shuffle(shuffled.pool.gpus.begin(), shuffled.pool.gpus.end(), rng);
      Result<Decision> again = Schedule(shuffled);
      ASSERT_TRUE(again.has_value()) << c.name;
      ASSERT_EQ(*again, *first) << c.name << " round " << round;
    }
  }
}

TEST(ScheduleValidationTest, RejectsSlotHeldTwice) {
  SchedulingInput in{.pool = Pool4Gpus(),
                     .running = {Running(1, R(1, 1), {A({0}, {0})}), Running(2, R(1, 1), {A({1}, {0})})}};
  Result<Decision> got = Schedule(in);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.error().message().find("running job 2 unit 0"), std::string::npos) << got.error().message();
}

TEST(ScheduleValidationTest, RejectsSlotsOutsideThePool) {
  SchedulingInput gpu{.pool = Pool4Gpus(), .running = {Running(1, R(1, 1), {A({0}, {4})})}};
  EXPECT_FALSE(ValidateInput(gpu).ok());
  SchedulingInput cpu{.pool = Pool4Gpus(), .running = {Running(1, R(0, 1), {A({8})})}};
  EXPECT_FALSE(ValidateInput(cpu).ok());
}

TEST(ScheduleValidationTest, RejectsDuplicateIdsAndBadPools) {
  SchedulingInput dup{.pool = Pool4Gpus(), .running = {Running(1, R(0, 1), {A({0})})}, .queue = {Pending(1, 1, R(0))}};
  EXPECT_FALSE(ValidateInput(dup).ok());
  SchedulingInput gpus_twice{.pool = Pool{.cpu_slots = 1, .gpus = {0, 0}}};
  EXPECT_EQ(ValidateInput(gpus_twice).field(), "pool.gpus");
  SchedulingInput negative{.pool = Pool{.cpu_slots = -1}};
  EXPECT_EQ(ValidateInput(negative).field(), "pool.cpu_slots");
}

TEST(ScheduleValidationTest, AcceptsAConsistentSnapshot) {
  for (const Case& c : testing::SchedulerCases()) EXPECT_TRUE(ValidateInput(c.in).ok()) << c.name;
}

TEST(ScheduleTest, EmptyInputDecidesNothing) {
  Result<Decision> got = Schedule(SchedulingInput{.pool = Pool4Gpus(), .now = kNow});
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, Decision{});
}

TEST(ScheduleTest, PoolWithoutGpusRunsCpuJobs) {
  SchedulingInput in{.pool = Pool{.cpu_slots = 2}, .queue = {Pending(1, 1, R(0, 2)), Pending(2, 2, R(1, 1))}};
  Result<Decision> got = Schedule(in);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->start.size(), 1u);
  EXPECT_EQ(got->start[0].id, 1);
  EXPECT_EQ(got->waiting_reason.at(2), "infeasible: needs 1 GPU, pool has 0");
}

}  // namespace
}  // namespace stoke::sched
