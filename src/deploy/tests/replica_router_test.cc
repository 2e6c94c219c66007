#include "deploy/replica_router.h"

#include <httplib.h>
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>

namespace stoke::deploy {
namespace {

using namespace std::chrono_literals;

// A stand-in replica: answers /predict with its own tag after an optional hold.
class FakeReplica {
 public:
  explicit FakeReplica(std::string tag, int status = 200) : tag_(std::move(tag)) {
    server_.Post("/predict", [this, status](const httplib::Request&, httplib::Response& res) {
      ++hits;
      if (hold_) hold_->wait();
      res.status = status;
      res.set_content(R"({"tag":")" + tag_ + R"("})", "application/json");
    });
    port = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();  // stop() before listening would be lost
  }
  ~FakeReplica() { Stop(); }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  void HoldWith(std::latch* latch) { hold_ = latch; }

  int port = 0;
  std::atomic<int> hits{0};

 private:
  std::string tag_;
  std::latch* hold_ = nullptr;
  httplib::Server server_;
  std::thread thread_;
};

TEST(ReplicaRouterTest, NoReplicaIsA503AfterTheWait) {
  ReplicaRouter router;
  auto t0 = std::chrono::steady_clock::now();
  RoutedResponse r = router.Forward("{}", 50ms);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("no replica"), std::string::npos);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 49ms);
  EXPECT_EQ(router.stats().server_errors, 1);
}

TEST(ReplicaRouterTest, WaitingRequestIsServedWhenAReplicaArrives) {
  FakeReplica a("a");
  ReplicaRouter router;
  std::thread later([&] {
    std::this_thread::sleep_for(50ms);
    router.Add(1, "127.0.0.1", a.port);
  });
  RoutedResponse r = router.Forward("{}", 10s);
  later.join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.replica, 1);
}

TEST(ReplicaRouterTest, SpreadsIdleLoadAndPrefersTheLeastOutstanding) {
  FakeReplica a("a"), b("b");
  ReplicaRouter router;
  router.Add(1, "127.0.0.1", a.port);
  router.Add(2, "127.0.0.1", b.port);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(router.Forward("{}", 1s).status, 200);
  EXPECT_GT(a.hits.load(), 0);
  EXPECT_GT(b.hits.load(), 0);
  // A request stuck on a: while it is outstanding there, every new one goes to b.
  std::latch hold(1);
  a.HoldWith(&hold);
  router.Remove(2);
  std::thread stuck([&] { (void)router.Forward("{}", 1s); });
  while (router.Outstanding(1) < 1) std::this_thread::yield();
  router.Add(2, "127.0.0.1", b.port);
  for (int i = 0; i < 5; ++i) {
    RoutedResponse r = router.Forward("{}", 1s);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.replica, 2);
  }
  EXPECT_EQ(router.in_flight(), 1);
  hold.count_down();
  stuck.join();
  EXPECT_EQ(router.Outstanding(1), 0);
}

TEST(ReplicaRouterTest, DeadReplicaIsRetriedOnAnother) {
  FakeReplica a("a"), b("b");
  ReplicaRouter router;
  router.Add(1, "127.0.0.1", a.port);
  router.Add(2, "127.0.0.1", b.port);
  a.Stop();
  for (int i = 0; i < 6; ++i) {
    RoutedResponse r = router.Forward("{}", 1s);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.replica, 2);
  }
  EXPECT_GT(router.stats().retries, 0);
}

TEST(ReplicaRouterTest, ClientErrorsPassThroughWithoutRetry) {
  FakeReplica bad("bad", 400);
  ReplicaRouter router;
  router.Add(1, "127.0.0.1", bad.port);
  RoutedResponse r = router.Forward("{}", 1s);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(bad.hits.load(), 1);
  EXPECT_EQ(router.stats().client_errors, 1);
}

TEST(ReplicaRouterTest, DrainedReplicaGetsNoNewRequests) {
  FakeReplica a("a"), b("b");
  ReplicaRouter router;
  router.Add(1, "127.0.0.1", a.port);
  router.Add(2, "127.0.0.1", b.port);
  router.Drain(1);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(router.Forward("{}", 1s).replica, 2);
  EXPECT_EQ(a.hits.load(), 0);
  EXPECT_EQ(router.Routable(), std::vector<JobId>{2});
  router.Remove(2);
  EXPECT_EQ(router.Forward("{}", 10ms).status, 503);
}

}  // namespace
}  // namespace stoke::deploy
