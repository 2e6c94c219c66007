#include <gtest/gtest.h>

#include <string>

#include "store/tests/store_test_util.h"

namespace stoke::store {
namespace {

using TokenStoreTest = testing::StoreTest;
using KvStoreTest = testing::StoreTest;

TEST_F(TokenStoreTest, CreateFindListRevoke) {
  Store& store = OpenStore();
  auto admin = store.CreateToken({.user = "root", .admin = true, .hash = "hash-a", .created_at = 5});
  ASSERT_TRUE(admin.has_value()) << admin.error().ToString();
  auto job_tok = store.CreateToken({.user = "alice", .job_scope = 42, .hash = "hash-b", .created_at = 6});
  ASSERT_TRUE(job_tok.has_value());
  EXPECT_GT(job_tok->id, admin->id);

  auto found = store.FindTokenByHash("hash-a").value();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, admin->id);
  EXPECT_EQ(found->user, "root");
  EXPECT_TRUE(found->admin);
  EXPECT_EQ(found->job_scope, 0);
  EXPECT_EQ(found->created_at, 5);
  EXPECT_FALSE(found->revoked);
  EXPECT_FALSE(store.FindTokenByHash("nope").value().has_value());

  auto dup = store.CreateToken({.user = "eve", .hash = "hash-a"});
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store.CreateToken({.user = "eve"}).error().field(), "hash");

  ASSERT_TRUE(store.RevokeToken(admin->id).ok());
  ASSERT_TRUE(store.RevokeToken(admin->id).ok());  // idempotent
  EXPECT_TRUE(store.FindTokenByHash("hash-a").value()->revoked);
  EXPECT_EQ(store.RevokeToken(999).code(), StatusCode::kNotFound);

  ASSERT_TRUE(store.RevokeJobTokens(42).ok());
  ASSERT_TRUE(store.RevokeJobTokens(7).ok());
  auto all = store.ListTokens().value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].hash, "hash-a");
  EXPECT_TRUE(all[0].revoked);
  EXPECT_EQ(all[1].job_scope, 42);
  EXPECT_TRUE(all[1].revoked);
}

TEST_F(TokenStoreTest, RevokeJobTokensLeavesUnscopedTokens) {
  Store& store = OpenStore();
  ASSERT_TRUE(store.CreateToken({.user = "a", .job_scope = 0, .hash = "h0"}).has_value());
  ASSERT_TRUE(store.RevokeJobTokens(0).ok());
  EXPECT_FALSE(store.FindTokenByHash("h0").value()->revoked);
}

TEST_F(KvStoreTest, PutGetListEraseByNamespace) {
  Store& store = OpenStore();
  ASSERT_TRUE(store.Put("hpo", "b", "2").ok());
  ASSERT_TRUE(store.Put("hpo", "a", "1").ok());
  ASSERT_TRUE(store.Put("deploy", "a", "other").ok());
  ASSERT_TRUE(store.Put("hpo", "b", "22").ok());  // overwrite
  const std::string binary("\0\x01\xff bytes", 9);
  ASSERT_TRUE(store.Put("hpo", "bin", binary).ok());
  ASSERT_TRUE(store.Put("hpo", "empty", "").ok());

  EXPECT_EQ(store.Get("hpo", "b").value(), std::optional<std::string>("22"));
  EXPECT_EQ(store.Get("hpo", "bin").value(), std::optional<std::string>(binary));
  EXPECT_EQ(store.Get("hpo", "empty").value(), std::optional<std::string>(""));
  EXPECT_FALSE(store.Get("hpo", "zzz").value().has_value());
  EXPECT_EQ(store.Get("deploy", "a").value(), std::optional<std::string>("other"));

  auto items = store.List("hpo").value();
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ(items[1].first, "b");
  EXPECT_EQ(items[2].first, "bin");
  EXPECT_EQ(items[3].first, "empty");

  ASSERT_TRUE(store.Erase("hpo", "a").ok());
  ASSERT_TRUE(store.Erase("hpo", "a").ok());
  EXPECT_FALSE(store.Get("hpo", "a").value().has_value());
  EXPECT_EQ(store.List("hpo").value().size(), 3u);
  EXPECT_EQ(store.List("deploy").value().size(), 1u);
  EXPECT_EQ(store.Put("", "k", "v").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stoke::store
