#include "sched/shadow.h"

#include <gtest/gtest.h>

namespace stoke::sched {
namespace {

TEST(ShadowTest, FitsNowStartsNow) {
  Shadow s = ComputeShadow(Amount{4, 2, 0}, Amount{1, 1, 0}, {}, 100);
  EXPECT_TRUE(s.known);
  EXPECT_EQ(s.at, 100);
  EXPECT_EQ(s.extra, (Amount{3, 1, 0}));
}

TEST(ShadowTest, WalksReleasesInTimeOrder) {
  std::vector<Release> releases = {{500, {2, 2, 0}}, {300, {1, 1, 0}}, {900, {4, 4, 0}}};
  Shadow s = ComputeShadow(Amount{1, 1, 0}, Amount{3, 3, 0}, releases, 100);
  EXPECT_TRUE(s.known);
  EXPECT_EQ(s.at, 500);
  EXPECT_EQ(s.extra, (Amount{1, 1, 0}));
}

TEST(ShadowTest, SimultaneousReleasesCountTogether) {
  std::vector<Release> releases = {{300, {0, 1, 0}}, {300, {0, 1, 0}}};
  Shadow s = ComputeShadow(Amount{}, Amount{0, 1, 0}, releases, 100);
  EXPECT_EQ(s.at, 300);
  EXPECT_EQ(s.extra, (Amount{0, 1, 0}));
}

TEST(ShadowTest, OverdueReleasesHappenNow) {
  Shadow s = ComputeShadow(Amount{}, Amount{0, 1, 0}, {{50, {0, 1, 0}}}, 100);
  EXPECT_TRUE(s.known);
  EXPECT_EQ(s.at, 100);
}

TEST(ShadowTest, UnknownKeepsEverythingFreeForTheHead) {
  Shadow s = ComputeShadow(Amount{6, 1, 0}, Amount{2, 3, 0}, {{500, {0, 1, 0}}}, 100);
  EXPECT_FALSE(s.known);
  EXPECT_EQ(s.extra, (Amount{4, 0, 0}));
}

}  // namespace
}  // namespace stoke::sched
