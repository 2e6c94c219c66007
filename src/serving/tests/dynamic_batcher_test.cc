#include "serving/dynamic_batcher.h"

#include <gtest/gtest.h>

#include <latch>
#include <thread>

namespace stoke::serving {
namespace {

using namespace std::chrono_literals;

Tensor Rows(std::vector<std::vector<float>> rows) {
  Tensor t;
  t.shape = {static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())};
  for (auto& r : rows) t.values.insert(t.values.end(), r.begin(), r.end());
  return t;
}

// Output row = sum of the input row; records the batch shapes it saw.
struct SumModel {
  std::mutex mu;
  std::vector<std::vector<int64_t>> shapes;
  DynamicBatcher::RunBatchFn Fn() {
    return [this](const Tensor& in) -> Result<Tensor> {
      {
        std::lock_guard lock(mu);
        shapes.push_back(in.shape);
      }
      Tensor out;
      out.shape = {in.rows()};
      int64_t k = in.RowSize();
      for (int64_t r = 0; r < in.rows(); ++r) {
        float s = 0;
        for (int64_t i = 0; i < k; ++i) s += in.values[r * k + i];
        out.values.push_back(s);
      }
      return out;
    };
  }
};

TEST(DynamicBatcherTest, SingleRequestGetsItsOwnRows) {
  SumModel model;
  DynamicBatcher b({.max_batch = 4, .max_delay = 1ms}, model.Fn());
  auto out = b.Submit(Rows({{1, 2}, {3, 4}}));
  ASSERT_TRUE(out.has_value()) << out.error().ToString();
  EXPECT_EQ(out->shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(out->values, (std::vector<float>{3, 7}));
}

TEST(DynamicBatcherTest, ConcurrentRequestsShareOneForwardAndGetTheirSlices) {
  SumModel model;
  ServingStats stats(8);
  // A long delay: the batch is cut because it is full, not because time ran out.
  DynamicBatcher b({.max_batch = 8, .max_delay = 10s}, model.Fn(), &stats);
  std::vector<std::thread> threads;
  std::vector<float> got(8, -1);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto out = b.Submit(Rows({{static_cast<float>(i), 100}}));
      if (out) got[i] = out->values.at(0);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(got[i], i + 100.0f) << i;
  ASSERT_EQ(model.shapes.size(), 1u);
  EXPECT_EQ(model.shapes[0], (std::vector<int64_t>{8, 2}));
  EXPECT_EQ(stats.ToJson()["mean_batch"].get<double>(), 8.0);
}

TEST(DynamicBatcherTest, LoneRequestLeavesAfterMaxDelay) {
  SumModel model;
  DynamicBatcher b({.max_batch = 64, .max_delay = 30ms}, model.Fn());
  auto t0 = std::chrono::steady_clock::now();
  auto out = b.Submit(Rows({{1}}));
  auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(out.has_value());
  EXPECT_GE(waited, 29ms);
  EXPECT_LT(waited, 5s);
}

TEST(DynamicBatcherTest, RowsOfDifferentShapesNeverShareAForward) {
  SumModel model;
  DynamicBatcher b({.max_batch = 16, .max_delay = 50ms}, model.Fn());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      Tensor t = i % 2 ? Rows({{1, 1, 1}}) : Rows({{1, 1}});
      auto out = b.Submit(t);
      if (out && out->values[0] == (i % 2 ? 3.0f : 2.0f)) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  for (const auto& s : model.shapes) EXPECT_TRUE(s[1] == 2 || s[1] == 3);
  int64_t rows = 0;
  for (const auto& s : model.shapes) rows += s[0];
  EXPECT_EQ(rows, 6);
  EXPECT_GE(model.shapes.size(), 2u);
}

TEST(DynamicBatcherTest, BatchNeverExceedsMaxBatch) {
  SumModel model;
  DynamicBatcher b({.max_batch = 5, .max_delay = 20ms}, model.Fn());
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) threads.emplace_back([&] { (void)b.Submit(Rows({{1}, {2}})); });
  for (auto& t : threads) t.join();
  int64_t rows = 0;
  for (const auto& s : model.shapes) {
    EXPECT_LE(s[0], 5);
    rows += s[0];
  }
  EXPECT_EQ(rows, 24);
}

TEST(DynamicBatcherTest, RejectsEmptyAndOversizedRequests) {
  SumModel model;
  DynamicBatcher b({.max_batch = 2, .max_delay = 1ms}, model.Fn());
  auto big = b.Submit(Rows({{1}, {2}, {3}}));
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(big.error().field(), "instances");
  EXPECT_NE(big.error().message().find("at most 2"), std::string::npos);
  auto empty = b.Submit(Tensor{});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(model.shapes.empty());
}

TEST(DynamicBatcherTest, ModelErrorReachesEveryRequestOfTheBatch) {
  DynamicBatcher b({.max_batch = 4, .max_delay = 10s},
                   [](const Tensor&) -> Result<Tensor> { return Err(Status::InvalidArgument("bad shape", "instances")); });
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto out = b.Submit(Rows({{1}}));
      if (!out && out.error().message() == "bad shape") ++failed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 4);
}

TEST(DynamicBatcherTest, WrongRowCountFromModelIsAnInternalError) {
  DynamicBatcher b({.max_batch = 4, .max_delay = 1ms}, [](const Tensor&) -> Result<Tensor> {
    return Tensor{{3}, {1, 2, 3}};
  });
  auto out = b.Submit(Rows({{1}, {2}}));
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code(), StatusCode::kInternal);
}

TEST(DynamicBatcherTest, FullQueueIsRefusedAndStopFailsWaiters) {
  std::latch release(1);
  std::atomic<int> runs{0};
  DynamicBatcher b({.max_batch = 1, .max_delay = 0ms, .max_queue_rows = 2}, [&](const Tensor& in) -> Result<Tensor> {
    ++runs;
    release.wait();
    return in;
  });
  std::vector<std::thread> threads;
  std::vector<Status> outcomes(3);
  auto outcome = [](Result<Tensor> r) { return r ? Status::Ok() : r.error(); };
  // The first request is taken by the (blocked) model; two more fill the queue.
  threads.emplace_back([&, outcome] { outcomes[0] = outcome(b.Submit(Rows({{1}}))); });
  while (runs.load() == 0) std::this_thread::yield();
  threads.emplace_back([&, outcome] { outcomes[1] = outcome(b.Submit(Rows({{2}}))); });
  threads.emplace_back([&, outcome] { outcomes[2] = outcome(b.Submit(Rows({{3}}))); });
  while (b.queued_rows() < 2) std::this_thread::yield();
  auto refused = b.Submit(Rows({{4}}));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kResourceExhausted);
  std::thread stopper([&] { b.Stop(); });
  release.count_down();
  stopper.join();
  for (auto& t : threads) t.join();
  EXPECT_TRUE(outcomes[0].ok());
  // The queued ones either ran before the stop or were failed by it; none hangs.
  for (int i = 1; i < 3; ++i) {
    EXPECT_TRUE(outcomes[i].ok() || outcomes[i].code() == StatusCode::kUnavailable) << outcomes[i].ToString();
  }
  auto late = b.Submit(Rows({{5}}));
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace stoke::serving
