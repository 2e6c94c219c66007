#include "engine/lr_schedule.h"

#include <gtest/gtest.h>

namespace stoke::engine {
namespace {

TEST(LrScheduleTest, ConstantWithWarmup) {
  LrSchedule s{.kind = LrScheduleKind::kConstant, .base_lr = 0.1, .warmup_steps = 4};
  EXPECT_DOUBLE_EQ(LearningRate(s, 0, 100), 0.025);
  EXPECT_DOUBLE_EQ(LearningRate(s, 3, 100), 0.1);
  EXPECT_DOUBLE_EQ(LearningRate(s, 50, 100), 0.1);
}

TEST(LrScheduleTest, StepDecay) {
  LrSchedule s{.kind = LrScheduleKind::kStep, .base_lr = 1.0, .step_size = 10, .gamma = 0.5};
  EXPECT_DOUBLE_EQ(LearningRate(s, 9, 100), 1.0);
  EXPECT_DOUBLE_EQ(LearningRate(s, 10, 100), 0.5);
  EXPECT_DOUBLE_EQ(LearningRate(s, 25, 100), 0.25);
}

TEST(LrScheduleTest, CosineFromBaseToMin) {
  LrSchedule s{.kind = LrScheduleKind::kCosine, .base_lr = 1.0, .min_lr = 0.1};
  EXPECT_DOUBLE_EQ(LearningRate(s, 0, 100), 1.0);
  EXPECT_NEAR(LearningRate(s, 50, 100), 0.55, 1e-12);
  EXPECT_NEAR(LearningRate(s, 100, 100), 0.1, 1e-12);
}

TEST(LrScheduleTest, ParsesNames) {
  EXPECT_EQ(*ParseLrScheduleKind("cosine"), LrScheduleKind::kCosine);
  EXPECT_FALSE(ParseLrScheduleKind("exotic").has_value());
}

}  // namespace
}  // namespace stoke::engine
