#include "store/group_committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "store/tests/store_test_util.h"

namespace stoke::store {
namespace {

using GroupCommitterTest = testing::StoreTest;

std::unique_ptr<SqliteConn> OpenTable(const std::string& path) {
  auto conn = SqliteConn::Open(path, false);
  EXPECT_TRUE(conn.has_value());
  EXPECT_TRUE((*conn)->Exec("PRAGMA journal_mode = WAL; CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)").ok());
  return std::move(*conn);
}

int64_t Count(const std::string& path, const std::string& where) {
  auto conn = SqliteConn::Open(path, true);
  return (*conn)->QueryInt("SELECT count(*) FROM t WHERE " + where).value();
}

Status Insert(SqliteConn& db, int64_t k) {
  auto stmt = db.Prepare("INSERT INTO t (k, v) VALUES (?1, 'x')");
  if (!stmt) return stmt.error();
  return stmt->Bind(1, k).Run();
}

TEST_F(GroupCommitterTest, FailedWriteIsUndoneAloneInsideABatch) {
  GroupCommitter committer(OpenTable(path_), 64);
  constexpr int kThreads = 16;
  constexpr int kPerThread = 20;
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        int64_t k = t * 1000 + i;
        // Every third write inserts its row and then fails: the row must vanish.
        bool fail = k % 3 == 0;
        Status s = committer.Submit([&](SqliteConn& db) -> Status {
          Status ins = Insert(db, k);
          if (!ins.ok()) return ins;
          return fail ? Status::FailedPrecondition("nope") : Status::Ok();
        });
        EXPECT_EQ(s.ok(), !fail) << s.ToString();
        (s.ok() ? ok : failed)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Count(path_, "1"), ok.load());
  EXPECT_EQ(Count(path_, "k % 3 = 0"), 0);
  GroupCommitter::Stats stats = committer.stats();
  EXPECT_EQ(stats.writes, ok.load());
  EXPECT_LT(stats.commits, stats.writes) << "concurrent writes should share commits";
}

TEST_F(GroupCommitterTest, ConstraintErrorIsReportedAndOthersCommit) {
  GroupCommitter committer(OpenTable(path_), 64);
  ASSERT_TRUE(committer.Submit([](SqliteConn& db) { return Insert(db, 1); }).ok());
  Status dup = committer.Submit([](SqliteConn& db) { return Insert(db, 1); });
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup.ToString();
  ASSERT_TRUE(committer.Submit([](SqliteConn& db) { return Insert(db, 2); }).ok());
  EXPECT_EQ(Count(path_, "1"), 2);
}

}  // namespace
}  // namespace stoke::store
