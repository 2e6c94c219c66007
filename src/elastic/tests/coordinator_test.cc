#include "elastic/coordinator.h"

#include <gtest/gtest.h>

namespace stoke::elastic {
namespace {

using Ids = std::vector<int64_t>;

CoordinatorOptions Options(int max_workers = 8) {
  CoordinatorOptions o;
  o.max_workers = max_workers;
  o.heartbeat_timeout_ms = 1000;
  o.join_settle_ms = 200;
  return o;
}

TEST(CoordinatorTest, ColdStartWaitsForJoinsToSettle) {
  Coordinator c(Options());
  c.OnWorkerJoined(0, 0);
  c.OnWorkerJoined(1, 50);
  c.OnWorkerJoined(2, 100);
  EXPECT_FALSE(c.Tick(150).has_value());
  auto gen = c.Tick(310);
  ASSERT_TRUE(gen.has_value());
  EXPECT_EQ(gen->number, 1);
  EXPECT_EQ(gen->members, (Ids{0, 1, 2}));
  EXPECT_FALSE(c.Tick(320).has_value());
}

TEST(CoordinatorTest, RescaleOneThreeTwoOneKeepsSurvivorsFirstAndReleasesDropped) {
  Coordinator c(Options());
  c.OnScaleRequest(1);
  for (int id = 0; id < 3; ++id) c.OnWorkerJoined(id, 0);
  EXPECT_EQ(c.Tick(300)->members, (Ids{0}));
  c.OnScaleRequest(3);
  auto g2 = c.Tick(400);
  ASSERT_TRUE(g2.has_value());
  EXPECT_EQ(g2->number, 2);
  EXPECT_EQ(g2->members, (Ids{0, 1, 2}));
  c.OnScaleRequest(2);
  EXPECT_EQ(c.Tick(500)->members, (Ids{0, 1}));
  c.OnScaleRequest(1);
  auto g4 = c.Tick(600);
  EXPECT_EQ(g4->members, (Ids{0}));
  EXPECT_EQ(g4->number, 4);
  // Released workers never come back; only a fresh join can grow the job again.
  c.OnScaleRequest(3);
  EXPECT_FALSE(c.Tick(700).has_value());
  c.OnWorkerJoined(3, 700);
  EXPECT_FALSE(c.Tick(750).has_value());  // settling
  EXPECT_EQ(c.Tick(950)->members, (Ids{0, 3}));
}

TEST(CoordinatorTest, ScaleTargetIsClampedToLimits) {
  CoordinatorOptions o = Options(2);
  o.min_workers = 1;
  Coordinator c(o);
  c.OnScaleRequest(99);
  EXPECT_EQ(c.target(), 2);
  c.OnScaleRequest(0);
  EXPECT_EQ(c.target(), 1);
}

TEST(CoordinatorTest, MissedHeartbeatsDropTheWorkerWithoutDelay) {
  Coordinator c(Options());
  for (int id = 0; id < 3; ++id) c.OnWorkerJoined(id, 0);
  ASSERT_EQ(c.Tick(300)->members, (Ids{0, 1, 2}));
  for (int t = 100; t <= 1500; t += 100) {
    c.OnHeartbeat(1, t, t);
    c.OnHeartbeat(2, t, t);
    auto gen = c.Tick(t);
    if (t <= 1000) {
      EXPECT_FALSE(gen.has_value()) << t;
    } else if (gen.has_value()) {
      EXPECT_EQ(gen->members, (Ids{1, 2}));  // rank 0 died: the survivors keep their order
      EXPECT_EQ(gen->number, 2);
      return;
    }
  }
  FAIL() << "dead worker was never dropped";
}

TEST(CoordinatorTest, UnchangedHeartbeatValueDoesNotCountAsAlive) {
  Coordinator c(Options());
  c.OnWorkerJoined(0, 0);
  c.OnWorkerJoined(1, 0);
  ASSERT_TRUE(c.Tick(300).has_value());
  for (int t = 100; t <= 1200; t += 100) {
    c.OnHeartbeat(0, t, t);
    c.OnHeartbeat(1, 7, t);  // a stuck process keeps showing the same counter
  }
  auto gen = c.Tick(1200);
  ASSERT_TRUE(gen.has_value());
  EXPECT_EQ(gen->members, (Ids{0}));
}

TEST(CoordinatorTest, FailureWithoutVisibleCauseRebuildsTheSameMembers) {
  Coordinator c(Options());
  c.OnWorkerJoined(0, 0);
  c.OnWorkerJoined(1, 0);
  ASSERT_EQ(c.Tick(300)->number, 1);
  c.OnFailureReported(0, /*generation=*/0, 400);  // stale: ignored
  c.OnFailureReported(1, /*generation=*/1, 400);
  for (int t = 500; t <= 1300; t += 100) {
    c.OnHeartbeat(0, t, t);
    c.OnHeartbeat(1, t, t);
    auto gen = c.Tick(t);
    EXPECT_FALSE(gen.has_value()) << t;
  }
  c.OnHeartbeat(0, 1400, 1400);
  c.OnHeartbeat(1, 1400, 1400);
  auto gen = c.Tick(1400);
  ASSERT_TRUE(gen.has_value());
  EXPECT_EQ(gen->number, 2);
  EXPECT_EQ(gen->members, (Ids{0, 1}));
}

TEST(CoordinatorTest, LeaveShrinksAndStandbyFillsUpToTarget) {
  Coordinator c(Options());
  c.OnScaleRequest(2);
  for (int id = 0; id < 3; ++id) c.OnWorkerJoined(id, 0);
  ASSERT_EQ(c.Tick(300)->members, (Ids{0, 1}));
  c.OnWorkerLeft(0);
  auto gen = c.Tick(400);
  ASSERT_TRUE(gen.has_value());
  EXPECT_EQ(gen->members, (Ids{1, 2}));
}

TEST(CoordinatorTest, LeaveOfAMemberIsPublishedAtOnceWithoutIt) {
  Coordinator c(Options());
  for (int id = 0; id < 3; ++id) c.OnWorkerJoined(id, 0);
  ASSERT_EQ(c.Tick(300)->members, (Ids{0, 1, 2}));
  c.OnWorkerLeft(0);  // rank 0 leaves: the survivors keep their order, worker 1 becomes rank 0
  auto gen = c.Tick(301);
  ASSERT_TRUE(gen.has_value());
  EXPECT_EQ(gen->number, 2);
  EXPECT_EQ(gen->members, (Ids{1, 2}));
  EXPECT_EQ(c.LiveWorkers(), (Ids{1, 2}));
}

TEST(CoordinatorTest, LeaveIsNotGrantedBelowMinWorkers) {
  CoordinatorOptions o = Options();
  o.min_workers = 2;
  Coordinator c(o);
  c.OnWorkerJoined(0, 0);
  c.OnWorkerJoined(1, 0);
  ASSERT_EQ(c.Tick(300)->members, (Ids{0, 1}));
  c.OnWorkerLeft(1);
  EXPECT_FALSE(c.Tick(400).has_value());
}

TEST(CoordinatorTest, LeaveNeverHandsTheJobToWorkersWithoutItsState) {
  // Worker 0 alone holds the trained state; standby 1 would start from scratch.
  Coordinator c(Options());
  c.OnScaleRequest(1);
  c.OnWorkerJoined(0, 0);
  c.OnWorkerJoined(1, 0);
  ASSERT_EQ(c.Tick(300)->members, (Ids{0}));
  c.OnWorkerLeft(0);
  for (int t = 400; t <= 900; t += 100) {
    c.OnHeartbeat(1, t, t);
    EXPECT_FALSE(c.Tick(t).has_value()) << t;
  }
  // Every member leaving at once (the job is being stopped): nothing to publish either.
  Coordinator all(Options());
  for (int id = 0; id < 2; ++id) all.OnWorkerJoined(id, 0);
  ASSERT_EQ(all.Tick(300)->members, (Ids{0, 1}));
  all.OnWorkerLeft(0);
  all.OnWorkerLeft(1);
  EXPECT_FALSE(all.Tick(400).has_value());
}

TEST(CoordinatorTest, NoGenerationBelowMinWorkers) {
  CoordinatorOptions o = Options();
  o.min_workers = 2;
  Coordinator c(o);
  c.OnWorkerJoined(0, 0);
  EXPECT_FALSE(c.Tick(1000).has_value());
  c.OnWorkerJoined(1, 1000);
  c.OnHeartbeat(0, 1, 1000);
  auto gen = c.Tick(1300);
  ASSERT_TRUE(gen.has_value());
  EXPECT_EQ(gen->members, (Ids{0, 1}));
}

TEST(CoordinatorTest, AdoptResumesNumbering) {
  Coordinator c(Options());
  c.Adopt(Generation{7, {4, 5}});
  c.OnWorkerJoined(4, 0);
  c.OnWorkerJoined(5, 0);
  c.OnWorkerJoined(6, 0);
  auto gen = c.Tick(300);
  ASSERT_TRUE(gen.has_value());
  EXPECT_EQ(gen->number, 8);
  EXPECT_EQ(gen->members, (Ids{4, 5, 6}));
}

}  // namespace
}  // namespace stoke::elastic
