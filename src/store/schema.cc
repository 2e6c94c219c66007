#include "store/schema.h"

#include <array>
#include <string>
#include <string_view>

namespace stoke::store {
namespace {

// Ordered migration steps: step i takes the schema from version i to i+1.
// Never edit a released step; append a new one and bump kSchemaVersion.
constexpr std::array<std::string_view, kSchemaVersion> kMigrations = {
    // 1: jobs and metrics.
    R"sql(
CREATE TABLE jobs (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids are never reused
  user            TEXT NOT NULL,
  name            TEXT NOT NULL,          -- copy of spec.name, for filtering
  state           TEXT NOT NULL,          -- JobStateName()
  spec            TEXT NOT NULL,          -- JobSpec as JSON
  exit_code       INTEGER,                -- NULL = none yet
  reason          TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  started_at      INTEGER NOT NULL DEFAULT 0,
  finished_at     INTEGER NOT NULL DEFAULT 0,
  allocation      TEXT NOT NULL DEFAULT '{}',  -- {"cpus":[..],"gpus":[..]}
  pid             INTEGER NOT NULL DEFAULT 0,
  pid_start_ticks INTEGER NOT NULL DEFAULT 0,
  job_dir         TEXT NOT NULL DEFAULT ''
);
CREATE TABLE metric_series (
  id     INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL,
  name   TEXT NOT NULL,
  UNIQUE (job_id, name)
);
-- Clustered by (series, step): a step range of one series is one contiguous b-tree range.
CREATE TABLE metric_points (
  series_id INTEGER NOT NULL,
  step      INTEGER NOT NULL,
  value     REAL NOT NULL,
  time      INTEGER NOT NULL,
  PRIMARY KEY (series_id, step)
) WITHOUT ROWID;
)sql",
    // 2: list indexes, tokens, namespaced key-value table.
    R"sql(
CREATE INDEX jobs_by_state ON jobs (state, id);
CREATE INDEX jobs_by_user ON jobs (user, id);
CREATE TABLE tokens (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  user       TEXT NOT NULL,
  admin      INTEGER NOT NULL DEFAULT 0,
  job_scope  INTEGER NOT NULL DEFAULT 0,  -- 0 = not scoped to a job
  hash       TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_by_job ON tokens (job_scope) WHERE job_scope != 0;
CREATE TABLE kv (
  ns    TEXT NOT NULL,
  key   TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (ns, key)
) WITHOUT ROWID;
)sql",
};

}  // namespace

Result<int> ReadSchemaVersion(SqliteConn& conn) {
  STOKE_ASSIGN_OR_RETURN(int64_t has_table,
                         conn.QueryInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                       "name = 'schema_version'"));
  if (has_table == 0) return 0;
  STOKE_ASSIGN_OR_RETURN(int64_t version, conn.QueryInt("SELECT coalesce(max(version), 0) FROM schema_version"));
  return static_cast<int>(version);
}

Status MigrateSchema(SqliteConn& conn) {
  // IMMEDIATE takes the write lock first, so two processes cannot both migrate.
  STOKE_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
  auto migrate = [&]() -> Status {
    STOKE_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(conn));
    if (version > kSchemaVersion) {
      return Status::FailedPrecondition("database schema version " + std::to_string(version) +
                                        " is newer than this binary supports (" +
                                        std::to_string(kSchemaVersion) + "); upgrade stoke");
    }
    if (version == kSchemaVersion) return Status::Ok();
    if (version == 0) {
      STOKE_RETURN_IF_ERROR(conn.Exec(
          "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL)"));
    }
    // One row per applied step: the table doubles as a migration history.
    for (int step = version; step < kSchemaVersion; ++step) {
      Status s = conn.Exec(kMigrations[step]);
      if (!s.ok()) return s.WithContext("migration to schema version " + std::to_string(step + 1));
      STOKE_RETURN_IF_ERROR(conn.Exec("INSERT INTO schema_version (version, applied_at) VALUES (" +
                                      std::to_string(step + 1) +
                                      ", CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))"));
    }
    return Status::Ok();
  };
  Status s = migrate();
  if (!s.ok()) {
    (void)conn.Exec("ROLLBACK");
    return s;
  }
  return conn.Exec("COMMIT");
}

}  // namespace stoke::store
