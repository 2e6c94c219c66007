#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "elastic/coordinator_runner.h"
#include "elastic/event_log.h"
#include "elastic/keys.h"
#include "elastic/memory_kv_store.h"
#include "elastic/membership_client.h"
#include "elastic/prefix_kv_store.h"

namespace stoke::elastic {
namespace {

using namespace std::chrono_literals;

TEST(EventLogTest, FormatsAndParses) {
  for (const MembershipEvent& e : {MembershipEvent(JoinEvent{3}), MembershipEvent(LeaveEvent{4}),
                                   MembershipEvent(FailureEvent{5, 9})}) {
    auto parsed = ParseEvent(FormatEvent(e));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(FormatEvent(*parsed), FormatEvent(e));
  }
  EXPECT_FALSE(ParseEvent("join:x").has_value());
  EXPECT_FALSE(ParseEvent("explode:1").has_value());
  EXPECT_FALSE(ParseEvent("fail:1").has_value());
}

TEST(KeysTest, IdListsRoundTrip) {
  EXPECT_EQ(keys::JoinIds({3, 0, 12}), "3,0,12");
  EXPECT_EQ(*keys::ParseIds("3,0,12"), (std::vector<int64_t>{3, 0, 12}));
  EXPECT_TRUE(keys::ParseIds("")->empty());
  EXPECT_FALSE(keys::ParseIds("1,,2").has_value());
}

class MembershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CoordinatorRunnerOptions o;
    o.coordinator.heartbeat_timeout_ms = 600;
    o.coordinator.join_settle_ms = 50;
    o.tick = 20ms;
    runner_ = std::make_unique<CoordinatorRunner>(job_, clock_, o);
    runner_->Start();
  }
  void TearDown() override { runner_->Stop(); }

  std::unique_ptr<MembershipClient> JoinOne() {
    MembershipClientOptions o;
    o.heartbeat_interval = 100ms;
    o.poll_slice = 100ms;
    auto c = MembershipClient::Join(job_, o);
    EXPECT_TRUE(c.has_value());
    return std::move(*c);
  }

  MemoryKvStore shared_;
  PrefixKvStore job_{"jobs/1/", shared_};
  SystemClock clock_;
  std::unique_ptr<CoordinatorRunner> runner_;
};

TEST_F(MembershipTest, WorkersAgreeOnGenerationsThroughScaleAndDeath) {
  std::vector<std::unique_ptr<MembershipClient>> w;
  for (int i = 0; i < 3; ++i) w.push_back(JoinOne());
  // Cold start: one generation with all three.
  std::vector<Membership> m;
  for (auto& c : w) {
    auto r = c->AwaitGeneration(1, 5s);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    m.push_back(*r);
  }
  EXPECT_EQ(m[0].world_size, 3);
  EXPECT_EQ(m[0].generation, m[2].generation);
  std::vector<bool> seen_rank(3, false);
  for (auto& x : m) seen_rank[x.rank] = true;
  EXPECT_EQ(seen_rank, std::vector<bool>(3, true));
  const int64_t g1 = m[0].generation;

  // Shrink to 2: the newest worker is released, the others move on together.
  ASSERT_TRUE(job_.Set(keys::kScaleTarget, "2").ok());
  auto released = w[2]->AwaitGeneration(g1 + 1, 5s);
  ASSERT_FALSE(released.has_value());
  EXPECT_EQ(released.error().code(), StatusCode::kFailedPrecondition);
  auto a = w[0]->AwaitGeneration(g1 + 1, 5s);
  auto b = w[1]->AwaitGeneration(g1 + 1, 5s);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->generation, b->generation);
  EXPECT_EQ(a->world_size, 2);
  ASSERT_TRUE(w[2]->Leave().ok());

  // The watcher thread notices new generations on its own.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (w[0]->latest_generation() < a->generation && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(w[0]->latest_generation(), a->generation);

  // Worker 1 dies silently; worker 0 reports the failed collective and is regrouped alone.
  w[1]->StopHeartbeats();
  ASSERT_TRUE(w[0]->ReportFailure(a->generation).ok());
  auto start = std::chrono::steady_clock::now();
  auto alone = w[0]->AwaitGeneration(a->generation + 1, 5s);
  ASSERT_TRUE(alone.has_value()) << alone.error().ToString();
  EXPECT_EQ(alone->world_size, 1);
  EXPECT_EQ(alone->rank, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);

  // The end of the job wakes everybody waiting.
  ASSERT_TRUE(w[0]->FinishJob("ok").ok());
  auto after = w[0]->AwaitGeneration(alone->generation + 1, 5s);
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code(), StatusCode::kCancelled);
  deadline = std::chrono::steady_clock::now() + 5s;
  while (!runner_->job_done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(runner_->job_done());
}

TEST_F(MembershipTest, LateJoinerGetsANewGenerationWithSurvivorsFirst) {
  auto first = JoinOne();
  auto g1 = first->AwaitGeneration(1, 5s);
  ASSERT_TRUE(g1.has_value());
  EXPECT_EQ(g1->world_size, 1);
  auto late = JoinOne();
  auto g2 = late->AwaitGeneration(1, 5s);
  ASSERT_TRUE(g2.has_value()) << g2.error().ToString();
  EXPECT_EQ(g2->generation, g1->generation + 1);
  EXPECT_EQ(g2->members.front(), first->worker_id());
  EXPECT_EQ(g2->rank, 1);
}

TEST(CoordinatorRunnerTest, RestartedRunnerContinuesNumbering) {
  MemoryKvStore store;
  SystemClock clock;
  CoordinatorRunnerOptions o;
  o.coordinator.join_settle_ms = 0;
  ASSERT_TRUE(AppendEvent(store, JoinEvent{0}).ok());
  {
    CoordinatorRunner runner(store, clock, o);
    auto gen = runner.Poll();
    ASSERT_TRUE(gen.has_value() && gen->has_value());
    EXPECT_EQ((*gen)->number, 1);
  }
  ASSERT_TRUE(AppendEvent(store, JoinEvent{1}).ok());
  CoordinatorRunner again(store, clock, o);
  auto gen = again.Poll();
  ASSERT_TRUE(gen.has_value() && gen->has_value());
  EXPECT_EQ((*gen)->number, 2);
  EXPECT_EQ((*gen)->members, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(*store.Get(keys::kLatestGeneration), "2");
}

}  // namespace
}  // namespace stoke::elastic
