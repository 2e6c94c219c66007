#include "engine/tcp_kv_store.h"

#include <gtest/gtest.h>

#include <atomic>

#include "elastic/prefix_kv_store.h"
#include "elastic/testing/kv_store_conformance.h"

namespace stoke::engine {
namespace {

using elastic::testing::KvStoreConformanceTest;
using elastic::testing::KvStoreFactory;

// Every conformance case gets its own empty scope of one shared server.
TcpKvStore& SharedServer() {
  static std::unique_ptr<TcpKvStore> server = [] {
    auto s = TcpKvStore::Open("127.0.0.1", 0, /*is_server=*/true, std::chrono::seconds(10));
    if (!s.has_value()) throw std::runtime_error(s.error().ToString());
    return std::move(*s);
  }();
  return *server;
}

class ScopedTcpStore final : public elastic::KvStore {
 public:
  ScopedTcpStore() : scope_("case" + std::to_string(counter_++) + "/", SharedServer()) {}
  Status Set(std::string_view k, std::string_view v) override { return scope_.Set(k, v); }
  Result<std::string> Get(std::string_view k) override { return scope_.Get(k); }
  Result<int64_t> Add(std::string_view k, int64_t d) override { return scope_.Add(k, d); }
  Result<bool> CompareSet(std::string_view k, std::optional<std::string_view> e, std::string_view d) override {
    return scope_.CompareSet(k, e, d);
  }
  Status Wait(std::span<const std::string> keys, std::chrono::milliseconds t) override { return scope_.Wait(keys, t); }
  Result<bool> Delete(std::string_view k) override { return scope_.Delete(k); }

 private:
  static inline std::atomic<int> counter_{0};
  elastic::PrefixKvStore scope_;
};

INSTANTIATE_TEST_SUITE_P(Tcp, KvStoreConformanceTest,
                         ::testing::Values(KvStoreFactory([] { return std::make_unique<ScopedTcpStore>(); })),
                         [](const auto&) { return std::string("Default"); });

TEST(TcpKvStoreTest, ClientSeesServerWrites) {
  auto client = TcpKvStore::Open("127.0.0.1", SharedServer().port(), /*is_server=*/false, std::chrono::seconds(5));
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  ASSERT_TRUE(SharedServer().Set("shared/k", "v").ok());
  EXPECT_EQ(*(*client)->Get("shared/k"), "v");
}

TEST(TcpKvStoreTest, ConnectingToNothingFails) {
  auto client = TcpKvStore::Open("127.0.0.1", 1, /*is_server=*/false, std::chrono::milliseconds(500));
  EXPECT_FALSE(client.has_value());
}

}  // namespace
}  // namespace stoke::engine
