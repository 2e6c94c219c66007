#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <thread>

#include "common/clock.h"
#include "elastic/coordinator_runner.h"
#include "elastic/keys.h"
#include "elastic/memory_kv_store.h"
#include "elastic/membership_client.h"
#include "elastic/prefix_kv_store.h"
#include "engine/communicator.h"
#include "engine/tests/test_util.h"
#include "engine/trainer.h"

namespace stoke::engine {
namespace {

using namespace std::chrono_literals;

TEST(GlooCommunicatorTest, AllReduceAndBroadcastAcrossThreadRanks) {
  elastic::MemoryKvStore shared;
  constexpr int kWorld = 3;
  std::vector<std::thread> ranks;
  std::vector<Status> results(kWorld);
  std::vector<at::Tensor> reduced(kWorld), broadcast(kWorld);
  for (int r = 0; r < kWorld; ++r) {
    ranks.emplace_back([&, r] {
      elastic::PrefixKvStore scope("gen/1/pg/", shared);
      GlooOptions o;
      o.timeout = 10s;
      auto comm = CreateGlooCommunicator(scope, r, kWorld, o);
      if (!comm.has_value()) {
        results[r] = comm.error();
        return;
      }
      std::vector<at::Tensor> buckets{torch::full({1000}, static_cast<float>(r + 1)), torch::full({3}, 1.0f)};
      results[r] = (*comm)->AllReduceSum(buckets);
      reduced[r] = buckets[0];
      auto b = torch::full({4}, static_cast<float>(r * 10));
      if (results[r].ok()) results[r] = (*comm)->Broadcast(b, 1);
      broadcast[r] = b;
    });
  }
  for (auto& t : ranks) t.join();
  for (int r = 0; r < kWorld; ++r) {
    ASSERT_TRUE(results[r].ok()) << results[r].ToString();
    EXPECT_TRUE(torch::equal(reduced[r], torch::full({1000}, 6.0f))) << r;
    EXPECT_TRUE(torch::equal(broadcast[r], torch::full({4}, 10.0f))) << r;
  }
}

TEST(GlooCommunicatorTest, LostPeerIsUnavailableWithinTheTimeout) {
  elastic::MemoryKvStore shared;
  Status survivor;
  auto start = std::chrono::steady_clock::now();
  std::thread quitter([&] {
    elastic::PrefixKvStore scope("pg/", shared);
    GlooOptions o;
    o.timeout = 1500ms;
    auto comm = CreateGlooCommunicator(scope, 1, 2, o);
    ASSERT_TRUE(comm.has_value());
    // Leaves without taking part in the collective; its process group goes away.
  });
  {
    elastic::PrefixKvStore scope("pg/", shared);
    GlooOptions o;
    o.timeout = 1500ms;
    auto comm = CreateGlooCommunicator(scope, 0, 2, o);
    ASSERT_TRUE(comm.has_value());
    quitter.join();
    std::vector<at::Tensor> t{torch::ones({10})};
    survivor = (*comm)->AllReduceSum(t);
  }
  EXPECT_EQ(survivor.code(), StatusCode::kUnavailable) << survivor.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(GlooCommunicatorTest, SupersededSetupIsAbandoned) {
  elastic::MemoryKvStore shared;
  elastic::PrefixKvStore scope("pg/", shared);
  GlooOptions o;
  o.timeout = 30s;
  o.abandon = [] { return true; };  // a newer generation already exists
  auto start = std::chrono::steady_clock::now();
  auto comm = CreateGlooCommunicator(scope, 0, 2, o);  // rank 1 never comes
  ASSERT_FALSE(comm.has_value());
  EXPECT_EQ(comm.error().code(), StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

// N ranks as threads on one in-memory store, driven by a real coordinator.
struct ThreadJob {
  elastic::MemoryKvStore store;
  SystemClock clock;
  std::unique_ptr<elastic::CoordinatorRunner> runner;

  explicit ThreadJob(int target) {
    (void)store.Set(elastic::keys::kScaleTarget, std::to_string(target));
    elastic::CoordinatorRunnerOptions o;
    o.coordinator.join_settle_ms = 300;
    o.coordinator.min_workers = target;  // start only once everyone is there
    o.coordinator.heartbeat_timeout_ms = 2000;
    o.tick = 20ms;
    runner = std::make_unique<elastic::CoordinatorRunner>(store, clock, o);
    runner->Start();
  }

  std::vector<Result<TrainSummary>> Run(const TrainOptions& options, int workers) {
    std::vector<Result<TrainSummary>> out(workers, Err(Status::Internal("not run")));
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&, w] {
        elastic::MembershipClientOptions mo;
        mo.heartbeat_interval = 100ms;
        mo.poll_slice = 100ms;
        auto client = elastic::MembershipClient::Join(store, mo);
        if (!client.has_value()) {
          out[w] = Err(client.error());
          return;
        }
        TrainerDeps deps;
        deps.job_store = &store;
        deps.membership = client->get();
        out[w] = Train(options, deps);
        (void)(*client)->Leave();
      });
    }
    for (auto& t : threads) t.join();
    return out;
  }
};

TEST(DataParallelTest, ThreeWorkersMatchOneWorkerAndSeeEverySampleOnce) {
  testing::TempDir single_dir, multi_dir;
  TrainOptions single = testing::TinyJob(single_dir);
  ASSERT_TRUE(Train(single, {}).has_value());

  TrainOptions multi = testing::TinyJob(multi_dir);
  multi.audit_dir = multi_dir / "audit";
  multi.bucket_bytes = 256;  // several buckets in flight at once
  ThreadJob job(3);
  auto results = job.Run(multi, 3);
  for (auto& r : results) {
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_EQ(r->steps, 30);
    EXPECT_EQ(r->outcome, TrainOutcome::kFinished);
  }
  auto report = testing::CheckAudit(multi.audit_dir, 240, 24, multi.seed, 30);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.world_sizes, (std::set<int>{3}));
  // Same global batch, same math: only the order of the float sums differs.
  double diff = testing::RelativeDifference(testing::FlatParameters(multi.output_dir + "/model.pt"),
                                            testing::FlatParameters(single.output_dir + "/model.pt"));
  EXPECT_LT(diff, 1e-5);
  EXPECT_GE(results[0]->val_accuracy, 0.75);
  // 256-byte buckets: all but the last bucket started while backward was still running.
  EXPECT_GT(results[0]->overlapped_buckets, 0);

  // Starting buckets during backward changes nothing but timing: the same bits as without.
  testing::TempDir serial_dir;
  TrainOptions serial = testing::TinyJob(serial_dir);
  serial.bucket_bytes = 256;
  serial.overlap_backward = false;
  ThreadJob serial_job(3);
  for (auto& r : serial_job.Run(serial, 3)) {
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_EQ(r->overlapped_buckets, 0);
  }
  EXPECT_TRUE(torch::equal(testing::FlatParameters(serial.output_dir + "/model.pt"),
                           testing::FlatParameters(multi.output_dir + "/model.pt")));
}

}  // namespace
}  // namespace stoke::engine
