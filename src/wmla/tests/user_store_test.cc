#include "wmla/user_store.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace stoke::wmla {
namespace {

class UserStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("wmla-users-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    auto s = store::Store::Open(store::Options{.path = (dir_ / "stoke.db").string(), .synchronous_full = false});
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  SystemClock clock_;
};

TEST_F(UserStoreTest, CreateVerifyAndChangePassword) {
  UserStore users(*store_, clock_);
  auto alice = users.Create("alice", "correct horse", false);
  ASSERT_TRUE(alice) << alice.error().ToString();
  EXPECT_FALSE(alice->admin);
  auto ok = users.Verify("alice", "correct horse");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->name, "alice");

  auto wrong = users.Verify("alice", "correct horsE");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), StatusCode::kUnauthenticated);
  auto unknown = users.Verify("mallory", "correct horse");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message(), wrong.error().message());

  ASSERT_TRUE(users.SetPassword("alice", "battery staple").ok());
  EXPECT_FALSE(users.Verify("alice", "correct horse"));
  EXPECT_TRUE(users.Verify("alice", "battery staple"));
  EXPECT_EQ(users.SetPassword("nobody", "whatever1").code(), StatusCode::kNotFound);
}

TEST_F(UserStoreTest, StoresOnlyAnArgon2idHash) {
  UserStore users(*store_, clock_);
  ASSERT_TRUE(users.Create("bob", "s3cret-pass", true));
  auto raw = store_->Get(UserStore::kNamespace, "bob");
  ASSERT_TRUE(raw && *raw);
  EXPECT_EQ((*raw)->find("s3cret-pass"), std::string::npos);
  EXPECT_NE((*raw)->find("$argon2id$"), std::string::npos);
  // Two hashes of one password differ (random salt) and both verify.
  auto h1 = HashPassword("same-password");
  auto h2 = HashPassword("same-password");
  ASSERT_TRUE(h1 && h2);
  EXPECT_NE(*h1, *h2);
  EXPECT_TRUE(VerifyPassword(*h1, "same-password"));
  EXPECT_FALSE(VerifyPassword(*h1, "other-password"));
  EXPECT_FALSE(VerifyPassword("", "x"));
  EXPECT_FALSE(VerifyPassword("garbage", "x"));
}

TEST_F(UserStoreTest, RejectsBadInputAndDuplicates) {
  UserStore users(*store_, clock_);
  EXPECT_EQ(users.Create("carol", "short", false).error().field(), "password");
  EXPECT_EQ(users.Create("bad name!", "long enough", false).error().field(), "user");
  ASSERT_TRUE(users.Create("carol", "long enough", false));
  EXPECT_EQ(users.Create("carol", "long enough 2", true).error().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(users.Create("dave", "long enough", true));
  auto list = users.List();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "carol");
  EXPECT_TRUE((*list)[1].admin);
  EXPECT_TRUE(users.Get("dave")->admin);
  EXPECT_EQ(users.Get("erin").error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace stoke::wmla
