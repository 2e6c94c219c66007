#include "engine/shard_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace stoke::engine {
namespace {

ShardPlan Plan(int64_t n, int64_t batch, uint64_t seed = 1) {
  return *ShardPlan::Create({.dataset_size = n, .global_batch = batch, .seed = seed, .shuffle = true});
}

TEST(ShardPlanTest, EpochOrderIsAPermutationThatDependsOnSeedAndEpoch) {
  ShardPlan p = Plan(100, 10);
  auto e0 = p.EpochOrder(0);
  auto sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(e0, Plan(100, 10).EpochOrder(0));  // pure function
  EXPECT_NE(e0, p.EpochOrder(1));
  EXPECT_NE(e0, Plan(100, 10, 2).EpochOrder(0));
}

TEST(ShardPlanTest, StepsCoverEachSampleOnceWhateverTheWorldSizePerStep) {
  ShardPlan p = Plan(103, 16);
  EXPECT_EQ(p.steps_per_epoch(), 7);
  EXPECT_EQ(p.StepBatchSize(6), 103 - 96);
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    std::multiset<int64_t> seen;
    for (int64_t k = 0; k < p.steps_per_epoch(); ++k) {
      int64_t step = epoch * p.steps_per_epoch() + k;
      int world = 1 + static_cast<int>(k % 4);  // the world changes every step
      std::vector<int64_t> global;
      for (int r = 0; r < world; ++r) {
        auto mine = p.RankSamples(step, world, r);
        global.insert(global.end(), mine.begin(), mine.end());
      }
      // The global batch is the same whatever the world size.
      std::vector<int64_t> single = p.RankSamples(step, 1, 0);
      EXPECT_EQ(global, single) << "step " << step;
      seen.insert(global.begin(), global.end());
    }
    ASSERT_EQ(seen.size(), 103u);
    for (int64_t i = 0; i < 103; ++i) EXPECT_EQ(seen.count(i), 1u) << i;
  }
}

TEST(ShardPlanTest, UnevenSplitGivesExtraSamplesToFirstRanks) {
  ShardPlan p = Plan(64, 10);
  EXPECT_EQ(p.RankSamples(0, 3, 0).size(), 4u);
  EXPECT_EQ(p.RankSamples(0, 3, 1).size(), 3u);
  EXPECT_EQ(p.RankSamples(0, 3, 2).size(), 3u);
  EXPECT_EQ(p.RankSamples(0, 20, 15).size(), 0u);  // more ranks than samples
}

TEST(ShardPlanTest, PositionIsDerivedFromTheGlobalStep) {
  ShardPlan p = Plan(50, 20);  // 3 steps per epoch
  StepPosition pos = p.Position(4);
  EXPECT_EQ(pos.epoch, 1);
  EXPECT_EQ(pos.step_in_epoch, 1);
  EXPECT_EQ(pos.cursor, 20);
}

TEST(ShardPlanTest, MicroBatchesSplitInOrder) {
  std::vector<int64_t> s{5, 6, 7, 8, 9};
  auto parts = SplitMicroBatches(s, 2);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2], (std::vector<int64_t>{9}));
  EXPECT_EQ(SplitMicroBatches(s, 0).size(), 1u);
  EXPECT_TRUE(SplitMicroBatches({}, 2).empty());
}

TEST(ShardPlanTest, RejectsEmptyDataAndBatch) {
  EXPECT_FALSE(ShardPlan::Create({.dataset_size = 0, .global_batch = 1}).has_value());
  EXPECT_FALSE(ShardPlan::Create({.dataset_size = 5, .global_batch = 0}).has_value());
}

}  // namespace
}  // namespace stoke::engine
