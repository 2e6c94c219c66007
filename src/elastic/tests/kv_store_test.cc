#include <memory>

#include "elastic/memory_kv_store.h"
#include "elastic/prefix_kv_store.h"
#include "elastic/testing/kv_store_conformance.h"

namespace stoke::elastic {
namespace {

using testing::KvStoreConformanceTest;
using testing::KvStoreFactory;

// A PrefixKvStore that owns its base, so the conformance suite can run it on its own.
class OwningPrefixStore final : public KvStore {
 public:
  OwningPrefixStore() : prefix_("jobs/7/", base_) {
    (void)base_.Set("unrelated", "noise");  // keys outside the prefix must stay invisible
  }
  Status Set(std::string_view k, std::string_view v) override { return prefix_.Set(k, v); }
  Result<std::string> Get(std::string_view k) override { return prefix_.Get(k); }
  Result<int64_t> Add(std::string_view k, int64_t d) override { return prefix_.Add(k, d); }
  Result<bool> CompareSet(std::string_view k, std::optional<std::string_view> e, std::string_view d) override {
    return prefix_.CompareSet(k, e, d);
  }
  Status Wait(std::span<const std::string> keys, std::chrono::milliseconds t) override { return prefix_.Wait(keys, t); }
  Result<bool> Delete(std::string_view k) override { return prefix_.Delete(k); }

 private:
  MemoryKvStore base_;
  PrefixKvStore prefix_;
};

INSTANTIATE_TEST_SUITE_P(Memory, KvStoreConformanceTest,
                         ::testing::Values(KvStoreFactory([] { return std::make_unique<MemoryKvStore>(); })),
                         [](const auto&) { return std::string("Default"); });
INSTANTIATE_TEST_SUITE_P(Prefix, KvStoreConformanceTest,
                         ::testing::Values(KvStoreFactory([] { return std::make_unique<OwningPrefixStore>(); })),
                         [](const auto&) { return std::string("Default"); });

TEST(PrefixKvStoreTest, WritesLandUnderThePrefix) {
  MemoryKvStore base;
  PrefixKvStore scoped("gen/3/", base);
  ASSERT_TRUE(scoped.Set("members", "0,1").ok());
  EXPECT_EQ(*base.Get("gen/3/members"), "0,1");
  EXPECT_EQ(base.Get("members").error().code(), StatusCode::kNotFound);
  ASSERT_TRUE(base.Set("gen/3/x", "y").ok());
  EXPECT_EQ(*scoped.Get("x"), "y");
}

TEST(MemoryKvStoreTest, AddOnNonIntegerFails) {
  MemoryKvStore store;
  ASSERT_TRUE(store.Set("k", "abc").ok());
  auto r = store.Add("k", 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace stoke::elastic
