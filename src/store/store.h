#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/job.h"
#include "common/status.h"

namespace stoke::store {

class GroupCommitter;
class ReadPool;

struct Options {
  std::string path;              // the SQLite file; created when missing
  bool synchronous_full = true;  // fsync every commit (false = NORMAL: may lose the last commits on power loss)
  int read_connections = 4;      // size of the reader pool
  int max_batch = 1024;          // most writes grouped into one transaction
};

struct JobFilter {
  std::vector<JobState> states{};  // empty = any state
  std::string user{};              // empty = any user; else exact match
  std::string name{};              // empty = any; else substring of spec.name (case-sensitive)
  int limit = 50;                // 1..1000
  JobId before_id = 0;           // cursor: only ids < before_id (0 = from the newest)
};

// Newest first. `next_before_id` is set when more jobs match: pass it as `before_id`.
struct JobPage {
  std::vector<Job> jobs;
  std::optional<JobId> next_before_id;
};

struct MetricPoint {
  int64_t step = 0;    // >= 0
  std::string name{};  // non-empty
  double value = 0;  // finite
  UnixMillis time = 0;
};

struct MetricSeries {
  std::string name;
  int64_t count = 0;                                 // points in the queried step range
  std::vector<std::pair<int64_t, double>> points;    // (step, value), ascending step
};

struct TokenRecord {
  int64_t id = 0;
  std::string user{};
  bool admin = false;
  JobId job_scope = 0;  // 0 = not job-scoped
  std::string hash{};   // the stored hash of the secret; unique
  UnixMillis created_at = 0;
  bool revoked = false;
};

// The durable store: jobs, metrics, API tokens and a namespaced key-value table in one
// SQLite file (WAL mode). Every write returns only once it is committed (and, with
// synchronous_full, fsynced); concurrent writes share commits (see GroupCommitter).
// Reads go through a pool of query-only connections. Thread-safe.
class Store {
 public:
  // Opens or creates the database and migrates it to the current schema version.
  // kFailedPrecondition when the file was written by a newer binary.
  static Result<std::unique_ptr<Store>> Open(const Options& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // --- jobs ---
  // Assigns the id (monotonic, never reused, even after deletes); durable on return.
  // REQUIRES: job.user is not empty. job.id is ignored.
  Result<Job> CreateJob(Job job);
  Result<Job> GetJob(JobId id);
  Result<JobPage> ListJobs(const JobFilter& filter);
  // QUEUED, STARTING and RUNNING jobs, ascending id (for recovery at startup).
  Result<std::vector<Job>> ListUnfinishedJobs();
  // Writes the mutable fields (state, exit_code, reason, started_at, finished_at,
  // allocation, pid, pid_start_ticks, job_dir). user, spec and created_at are immutable.
  // With `expected_state`, the write happens only if the stored state still equals it:
  // kAborted otherwise. kNotFound when there is no such job.
  Status UpdateJob(const Job& job, std::optional<JobState> expected_state = std::nullopt);
  // Removes the job and its metrics, and revokes the tokens scoped to it. kNotFound if absent.
  Status DeleteJob(JobId id);
  Result<std::map<JobState, int64_t>> CountJobsByState();  // every state present, 0 when none

  // --- metrics ---
  // One value per (job, name, step): a point for an existing step replaces it.
  // All-or-nothing: kInvalidArgument (field "metrics") if any point is bad; kNotFound without the job.
  Status AppendMetrics(JobId id, const std::vector<MetricPoint>& points);
  // Series of the job (all when `names` is empty), steps within [from, to] when given.
  // A series with more than `max_points` points there is downsampled: the step range is
  // cut into max_points/2 equal buckets and each bucket gives its min and its max point.
  // REQUIRES: max_points >= 2. Unknown names give no series.
  Result<std::vector<MetricSeries>> QueryMetrics(JobId id, const std::vector<std::string>& names,
                                                 std::optional<int64_t> from, std::optional<int64_t> to,
                                                 int max_points);
  Result<std::vector<std::string>> MetricNames(JobId id);  // sorted

  // --- tokens ---
  // Assigns id (rec.id is ignored). kAlreadyExists for a duplicate hash.
  Result<TokenRecord> CreateToken(TokenRecord rec);
  // Revoked tokens are returned too (with revoked = true); the caller decides.
  Result<std::optional<TokenRecord>> FindTokenByHash(const std::string& hash);
  Result<std::vector<TokenRecord>> ListTokens();  // ascending id
  Status RevokeToken(int64_t id);                 // kNotFound if absent; idempotent otherwise
  Status RevokeJobTokens(JobId id);               // OK when there are none

  // --- namespaced key-value (HPO snapshots, deployments, ...); values are bytes ---
  Status Put(std::string_view ns, std::string_view key, std::string_view value);
  Result<std::optional<std::string>> Get(std::string_view ns, std::string_view key);
  Result<std::vector<std::pair<std::string, std::string>>> List(std::string_view ns);  // by key
  Status Erase(std::string_view ns, std::string_view key);  // OK when absent

  // Commits and transactions so far (writes/commits = mean group size).
  struct WriteStats {
    int64_t writes = 0;
    int64_t commits = 0;
  };
  WriteStats write_stats() const;

 private:
  Store(std::unique_ptr<GroupCommitter> writer, std::unique_ptr<ReadPool> readers);

  std::unique_ptr<GroupCommitter> writer_;
  std::unique_ptr<ReadPool> readers_;
};

}  // namespace stoke::store
