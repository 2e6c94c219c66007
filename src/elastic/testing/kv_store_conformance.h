#pragma once

// The behaviour every KvStore implementation must show. An implementation's test does:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, KvStoreConformanceTest,
//       ::testing::Values(KvStoreFactory([] { return std::make_unique<MemoryKvStore>(); })));
//
// The factory must return an empty store (or an empty scope of a shared one) each call.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "elastic/kv_store.h"

namespace stoke::elastic::testing {

using KvStoreFactory = std::function<std::unique_ptr<KvStore>()>;

class KvStoreConformanceTest : public ::testing::TestWithParam<KvStoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam()(); }
  std::unique_ptr<KvStore> store_;
};

TEST_P(KvStoreConformanceTest, GetAbsentIsNotFound) {
  auto v = store_->Get("missing");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kNotFound);
}

TEST_P(KvStoreConformanceTest, SetThenGetRoundTripsBinary) {
  std::string value("a\0b\xff", 4);
  ASSERT_TRUE(store_->Set("k", value).ok());
  auto v = store_->Get("k");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, value);
  ASSERT_TRUE(store_->Set("k", "second").ok());
  EXPECT_EQ(*store_->Get("k"), "second");
}

TEST_P(KvStoreConformanceTest, AddCountsFromZeroAndStoresDecimal) {
  EXPECT_EQ(*store_->Add("c", 1), 1);
  EXPECT_EQ(*store_->Add("c", 5), 6);
  EXPECT_EQ(*store_->Add("c", -2), 4);
  EXPECT_EQ(*store_->Add("c", 0), 4);
  EXPECT_EQ(*store_->Get("c"), "4");
}

TEST_P(KvStoreConformanceTest, AddIsAtomicAcrossThreads) {
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) ASSERT_TRUE(store_->Add("n", 1).has_value());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(*store_->Add("n", 0), kThreads * kPerThread);
}

TEST_P(KvStoreConformanceTest, CompareSetOnlyWhenExpectedMatches) {
  EXPECT_TRUE(*store_->CompareSet("cs", std::nullopt, "v1"));      // absent -> created
  EXPECT_FALSE(*store_->CompareSet("cs", std::nullopt, "v2"));     // exists now
  EXPECT_FALSE(*store_->CompareSet("cs", std::string_view("x"), "v3"));
  EXPECT_EQ(*store_->Get("cs"), "v1");
  EXPECT_TRUE(*store_->CompareSet("cs", std::string_view("v1"), "v4"));
  EXPECT_EQ(*store_->Get("cs"), "v4");
  EXPECT_FALSE(*store_->CompareSet("other", std::string_view("v1"), "v5"));  // absent, expected given
  EXPECT_EQ(store_->Get("other").error().code(), StatusCode::kNotFound);
}

TEST_P(KvStoreConformanceTest, DeleteReportsExistence) {
  ASSERT_TRUE(store_->Set("d", "1").ok());
  EXPECT_TRUE(*store_->Delete("d"));
  EXPECT_FALSE(*store_->Delete("d"));
  EXPECT_EQ(store_->Get("d").error().code(), StatusCode::kNotFound);
}

TEST_P(KvStoreConformanceTest, WaitReturnsAtOnceWhenKeysExist) {
  ASSERT_TRUE(store_->Set("a", "1").ok());
  ASSERT_TRUE(store_->Set("b", "2").ok());
  std::vector<std::string> keys{"a", "b"};
  EXPECT_TRUE(store_->Wait(keys, std::chrono::milliseconds(2000)).ok());
}

TEST_P(KvStoreConformanceTest, WaitTimesOutWhenAKeyIsMissing) {
  ASSERT_TRUE(store_->Set("a", "1").ok());
  std::vector<std::string> keys{"a", "never"};
  auto start = std::chrono::steady_clock::now();
  Status s = store_->Wait(keys, std::chrono::milliseconds(150));
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(140));
}

TEST_P(KvStoreConformanceTest, WaitWakesWhenAnotherThreadSetsTheKeys) {
  std::atomic<bool> released{false};
  std::thread setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the waiter block first
    ASSERT_TRUE(store_->Set("late1", "x").ok());
    released = true;
    ASSERT_TRUE(store_->Add("late2", 1).has_value());
  });
  std::vector<std::string> keys{"late1", "late2"};
  Status s = store_->Wait(keys, std::chrono::milliseconds(10000));
  setter.join();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(released.load());
}

}  // namespace stoke::elastic::testing
