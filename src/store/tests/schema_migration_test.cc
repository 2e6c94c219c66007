#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <string>

#include "store/schema.h"
#include "store/tests/store_test_util.h"

namespace stoke::store {
namespace {

using SchemaTest = testing::StoreTest;

// Runs SQL on a raw connection, outside the store: how an older binary left the file.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

int64_t RawInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  int64_t out = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    out = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// The version-1 schema exactly as the first release created it.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1, 0);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL,
  spec TEXT NOT NULL, exit_code INTEGER, reason TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL DEFAULT 0, finished_at INTEGER NOT NULL DEFAULT 0,
  allocation TEXT NOT NULL DEFAULT '{}', pid INTEGER NOT NULL DEFAULT 0,
  pid_start_ticks INTEGER NOT NULL DEFAULT 0, job_dir TEXT NOT NULL DEFAULT '');
CREATE TABLE metric_series (id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, name TEXT NOT NULL,
  UNIQUE (job_id, name));
CREATE TABLE metric_points (series_id INTEGER NOT NULL, step INTEGER NOT NULL, value REAL NOT NULL,
  time INTEGER NOT NULL, PRIMARY KEY (series_id, step)) WITHOUT ROWID;
INSERT INTO jobs (id, user, name, state, spec, created_at)
  VALUES (7, 'olduser', 'legacy', 'RUNNING', '{"name":"legacy","argv":["sleep","1"]}', 123);
INSERT INTO metric_series VALUES (1, 7, 'loss');
INSERT INTO metric_points VALUES (1, 0, 2.5, 1), (1, 1, 1.5, 2);
)sql";

TEST_F(SchemaTest, NewDatabaseIsAtCurrentVersion) {
  OpenStore();
  store_.reset();
  EXPECT_EQ(RawInt(path_, "SELECT max(version) FROM schema_version"), kSchemaVersion);
  EXPECT_EQ(RawInt(path_, "SELECT count(*) FROM schema_version"), kSchemaVersion);
  // WAL mode is a property of the file: it stays after close.
  EXPECT_EQ(RawInt(path_, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
}

TEST_F(SchemaTest, MigratesVersionOneKeepingData) {
  RawExec(path_, kVersion1);
  Store& store = OpenStore();
  ASSERT_NE(store_, nullptr);

  auto legacy = store.GetJob(7);
  ASSERT_TRUE(legacy.has_value()) << legacy.error().ToString();
  EXPECT_EQ(legacy->user, "olduser");
  EXPECT_EQ(legacy->state, JobState::kRunning);
  EXPECT_EQ(legacy->spec.argv, (std::vector<std::string>{"sleep", "1"}));
  EXPECT_EQ(legacy->spec.hparams_json, "{}");  // absent in the old spec: default
  auto metrics = store.QueryMetrics(7, {"loss"}, {}, {}, 10).value();
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0].count, 2);

  // Version-2 features work, and new ids continue after the old ones.
  EXPECT_TRUE(store.CreateToken({.user = "a", .hash = "h"}).has_value());
  EXPECT_TRUE(store.Put("ns", "k", "v").ok());
  EXPECT_EQ(store.ListUnfinishedJobs().value().size(), 1u);
  EXPECT_EQ(store.CreateJob(MakeJob("u", "new")).value().id, 8);
  store_.reset();
  EXPECT_EQ(RawInt(path_, "SELECT max(version) FROM schema_version"), kSchemaVersion);
  EXPECT_EQ(RawInt(path_, "SELECT count(*) FROM sqlite_master WHERE name = 'jobs_by_state'"), 1);
}

TEST_F(SchemaTest, NewerDatabaseIsRefusedAndLeftAlone) {
  RawExec(path_, "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL);"
                 "INSERT INTO schema_version VALUES (999, 0);");
  auto opened = Store::Open(Options{.path = path_});
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(opened.error().message().find("999"), std::string::npos);
  EXPECT_EQ(RawInt(path_, "SELECT count(*) FROM sqlite_master WHERE name = 'jobs'"), 0);
  EXPECT_EQ(RawInt(path_, "SELECT max(version) FROM schema_version"), 999);
}

TEST_F(SchemaTest, FailedMigrationRollsBackEntirely) {
  // A v1 file that already has a table named like a v2 one: step 2 fails midway.
  RawExec(path_, std::string(kVersion1) + "CREATE TABLE kv (x INTEGER);");
  auto opened = Store::Open(Options{.path = path_});
  ASSERT_FALSE(opened.has_value());
  EXPECT_NE(opened.error().message().find("schema version 2"), std::string::npos) << opened.error().ToString();
  EXPECT_EQ(RawInt(path_, "SELECT max(version) FROM schema_version"), 1);
  EXPECT_EQ(RawInt(path_, "SELECT count(*) FROM sqlite_master WHERE name IN ('tokens', 'jobs_by_state')"), 0);
}

TEST_F(SchemaTest, OpenRejectsEmptyPathMissingDirectoryAndNonDatabaseFile) {
  EXPECT_EQ(Store::Open(Options{}).error().code(), StatusCode::kInvalidArgument);
  auto missing_dir = Store::Open(Options{.path = (dir_ / "no" / "such" / "dir.db").string()});
  ASSERT_FALSE(missing_dir.has_value());
  EXPECT_EQ(missing_dir.error().code(), StatusCode::kFailedPrecondition) << missing_dir.error().ToString();
  {
    FILE* f = fopen(path_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("this is not a database, just text that is long enough to fill a header page...........\n", f);
    fclose(f);
  }
  auto not_db = Store::Open(Options{.path = path_});
  ASSERT_FALSE(not_db.has_value());
  EXPECT_EQ(not_db.error().code(), StatusCode::kFailedPrecondition) << not_db.error().ToString();
}

}  // namespace
}  // namespace stoke::store
