#include "deploy/autoscaler.h"

#include <gtest/gtest.h>

namespace stoke::deploy {
namespace {

AutoscalePolicy Policy() { return {.target_in_flight = 4, .window_ms = 1000, .scale_down_after_ms = 3000}; }

TEST(AutoscalerTest, IdleStaysAtMin) {
  Autoscaler a(Policy());
  for (int64_t t = 0; t < 5000; t += 100) a.Observe(t, 0);
  EXPECT_EQ(a.Desired(5000, 1, 1, 4), 1);
  EXPECT_EQ(a.Desired(5000, 0, 2, 4), 2);
}

TEST(AutoscalerTest, LoadScalesUpAtOnceClampedToMax) {
  Autoscaler a(Policy());
  for (int64_t t = 0; t <= 1000; t += 100) a.Observe(t, 10);
  EXPECT_EQ(a.Desired(1000, 1, 1, 4), 3);  // ceil(10 / 4)
  for (int64_t t = 1100; t <= 2000; t += 100) a.Observe(t, 40);
  EXPECT_EQ(a.Desired(2000, 3, 1, 4), 4);
}

TEST(AutoscalerTest, ScalesDownOneAtATimeAfterTheLoadStaysLow) {
  Autoscaler a(Policy());
  for (int64_t t = 0; t <= 1000; t += 100) a.Observe(t, 16);
  ASSERT_EQ(a.Desired(1000, 1, 1, 4), 4);
  int64_t t = 1000;
  int current = 4;
  std::vector<std::pair<int64_t, int>> steps;
  for (t = 1100; t <= 20000; t += 100) {
    a.Observe(t, 0);
    int want = a.Desired(t, current, 1, 4);
    if (want != current) steps.emplace_back(t, want);
    current = want;
  }
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].second, 3);
  EXPECT_EQ(steps[2].second, 1);
  // The window must empty (1 s) and then the low load must hold 3 s before each step.
  EXPECT_GE(steps[0].first, 1000 + 3000);
  EXPECT_GE(steps[1].first - steps[0].first, 3000);
}

TEST(AutoscalerTest, ABurstCancelsAPendingScaleDown) {
  Autoscaler a(Policy());
  for (int64_t t = 0; t <= 1000; t += 100) a.Observe(t, 8);
  ASSERT_EQ(a.Desired(1000, 2, 1, 4), 2);
  for (int64_t t = 1100; t <= 3500; t += 100) {
    a.Observe(t, 0);
    EXPECT_EQ(a.Desired(t, 2, 1, 4), 2);
  }
  for (int64_t t = 3600; t <= 4600; t += 100) a.Observe(t, 8);
  EXPECT_EQ(a.Desired(4600, 2, 1, 4), 2);
  // Low again: the 3 s count starts over.
  a.Observe(5700, 0);
  EXPECT_EQ(a.Desired(5700, 2, 1, 4), 2);
  a.Observe(8000, 0);
  EXPECT_EQ(a.Desired(8000, 2, 1, 4), 2);
  a.Observe(8800, 0);
  EXPECT_EQ(a.Desired(8800, 2, 1, 4), 1);
}

TEST(AutoscalerTest, ScaleToZeroWhenMinIsZero) {
  Autoscaler a({.target_in_flight = 4, .window_ms = 500, .scale_down_after_ms = 0});
  a.Observe(0, 0);
  EXPECT_EQ(a.Desired(0, 1, 0, 2), 0);
  a.Observe(100, 1);
  EXPECT_EQ(a.Desired(100, 0, 0, 2), 1);
}

}  // namespace
}  // namespace stoke::deploy
