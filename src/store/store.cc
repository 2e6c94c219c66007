#include "store/store.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <unordered_map>
#include <utility>

#include "store/group_committer.h"
#include "store/job_codec.h"
#include "store/metric_minmax.h"
#include "store/read_pool.h"
#include "store/schema.h"
#include "store/sqlite_conn.h"

namespace stoke::store {
namespace {

constexpr int kMaxListLimit = 1000;

// Column order shared by every job query and ReadJob().
constexpr std::string_view kJobColumns =
    "id, user, state, spec, exit_code, reason, created_at, started_at, finished_at, allocation, pid, "
    "pid_start_ticks, job_dir";

std::string JobSelect(std::string_view tail) {
  std::string sql = "SELECT ";
  sql += kJobColumns;
  sql += " FROM jobs ";
  sql += tail;
  return sql;
}

Result<Job> ReadJob(const Stmt& row) {
  Job job;
  job.id = row.Int(0);
  job.user = row.Text(1);
  std::string state = row.Text(2);
  std::optional<JobState> parsed = ParseJobState(state);
  if (!parsed) return Err(Status::Internal("unknown job state in store: " + state));
  job.state = *parsed;
  STOKE_ASSIGN_OR_RETURN(job.spec, DecodeSpec(row.Text(3)));
  if (!row.IsNull(4)) job.exit_code = static_cast<int>(row.Int(4));
  job.reason = row.Text(5);
  job.created_at = row.Int(6);
  job.started_at = row.Int(7);
  job.finished_at = row.Int(8);
  STOKE_ASSIGN_OR_RETURN(job.allocation, DecodeAllocation(row.Text(9)));
  job.pid = row.Int(10);
  job.pid_start_ticks = row.Int(11);
  job.job_dir = row.Text(12);
  return job;
}

Result<std::vector<Job>> ReadJobs(Stmt& stmt) {
  std::vector<Job> jobs;
  while (true) {
    STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return jobs;
    STOKE_ASSIGN_OR_RETURN(Job job, ReadJob(stmt));
    jobs.push_back(std::move(job));
  }
}

std::optional<int64_t> ExitCode(const Job& job) {
  if (!job.exit_code) return std::nullopt;
  return int64_t{*job.exit_code};
}

constexpr std::string_view kTokenColumns = "id, user, admin, job_scope, hash, created_at, revoked";

TokenRecord ReadToken(const Stmt& row) {
  TokenRecord t;
  t.id = row.Int(0);
  t.user = row.Text(1);
  t.admin = row.Int(2) != 0;
  t.job_scope = row.Int(3);
  t.hash = row.Text(4);
  t.created_at = row.Int(5);
  t.revoked = row.Int(6) != 0;
  return t;
}

// Keeps one read connection inside a single read transaction, so several statements
// see the same snapshot. Ends it on scope exit.
class ReadTxn {
 public:
  explicit ReadTxn(SqliteConn& conn) : conn_(conn), status_(conn.Exec("BEGIN")) {}
  ~ReadTxn() {
    if (status_.ok()) (void)conn_.Exec("COMMIT");
  }
  const Status& status() const { return status_; }

 private:
  SqliteConn& conn_;
  Status status_;
};

// Returns the id of the job's series `name`, creating it. `cache` spans one write.
Result<int64_t> SeriesId(SqliteConn& db, JobId job, const std::string& name,
                         std::unordered_map<std::string, int64_t>& cache) {
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  {
    STOKE_ASSIGN_OR_RETURN(Stmt ins, db.Prepare("INSERT INTO metric_series (job_id, name) VALUES (?1, ?2) "
                                                "ON CONFLICT (job_id, name) DO NOTHING"));
    STOKE_RETURN_IF_ERROR(ins.Bind(1, job).Bind(2, name).Run());
  }
  STOKE_ASSIGN_OR_RETURN(Stmt sel, db.Prepare("SELECT id FROM metric_series WHERE job_id = ?1 AND name = ?2"));
  sel.Bind(1, job).Bind(2, name);
  STOKE_ASSIGN_OR_RETURN(bool row, sel.Step());
  if (!row) return Err(Status::Internal("metric series vanished"));
  int64_t id = sel.Int(0);
  cache.emplace(name, id);
  return id;
}

Status CheckJobExists(SqliteConn& db, JobId id) {
  STOKE_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT 1 FROM jobs WHERE id = ?1"));
  stmt.Bind(1, id);
  STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound("job " + std::to_string(id) + " not found");
  return Status::Ok();
}

// Downsamples the points of one series in [lo, hi] (which holds more than max_points
// points) into at most max_points points: max_points/2 equal step buckets, each giving
// its min and max point. `count` receives the number of points in the range.
Result<std::vector<std::pair<int64_t, double>>> Downsample(SqliteConn& db, int64_t series, int64_t lo, int64_t hi,
                                                           int max_points, int64_t& count) {
  // Narrow [lo, hi] to the steps that exist, so buckets are not wasted on empty space.
  auto edge = [&](const std::string& sql) -> Result<int64_t> {
    STOKE_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(sql));
    stmt.Bind(1, series).Bind(2, lo).Bind(3, hi);
    STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Err(Status::Internal("series changed during a read"));
    return stmt.Int(0);
  };
  STOKE_ASSIGN_OR_RETURN(int64_t first, edge("SELECT step FROM metric_points WHERE series_id = ?1 AND step "
                                             "BETWEEN ?2 AND ?3 ORDER BY step ASC LIMIT 1"));
  STOKE_ASSIGN_OR_RETURN(int64_t last, edge("SELECT step FROM metric_points WHERE series_id = ?1 AND step "
                                            "BETWEEN ?2 AND ?3 ORDER BY step DESC LIMIT 1"));
  using Wide = __int128;
  const Wide span = Wide{last} - Wide{first} + 1;
  const int64_t buckets = static_cast<int64_t>(std::min<Wide>(max_points / 2, span));

  STOKE_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT stoke_minmax(step, value) FROM metric_points "
                                               "WHERE series_id = ?1 AND step BETWEEN ?2 AND ?3"));
  std::vector<std::pair<int64_t, double>> points;
  points.reserve(static_cast<size_t>(buckets) * 2);
  count = 0;
  for (int64_t b = 0; b < buckets; ++b) {
    const int64_t begin = static_cast<int64_t>(Wide{first} + span * b / buckets);
    const int64_t end = static_cast<int64_t>(Wide{first} + span * (b + 1) / buckets - 1);  // inclusive
    stmt.Reset();
    stmt.Bind(1, series).Bind(2, begin).Bind(3, end);
    STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) continue;
    std::optional<MinMax> mm = DecodeMinMax(stmt.Text(0));
    if (!mm) continue;  // empty bucket
    count += mm->count;
    if (mm->min_step == mm->max_step) {
      points.emplace_back(mm->min_step, mm->min_value);
    } else if (mm->min_step < mm->max_step) {
      points.emplace_back(mm->min_step, mm->min_value);
      points.emplace_back(mm->max_step, mm->max_value);
    } else {
      points.emplace_back(mm->max_step, mm->max_value);
      points.emplace_back(mm->min_step, mm->min_value);
    }
  }
  return points;
}

}  // namespace

Store::Store(std::unique_ptr<GroupCommitter> writer, std::unique_ptr<ReadPool> readers)
    : writer_(std::move(writer)), readers_(std::move(readers)) {}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const Options& options) {
  if (options.path.empty()) return Err(Status::InvalidArgument("store path is empty", "path"));
  STOKE_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConn> conn, SqliteConn::Open(options.path, /*query_only=*/false));
  {
    STOKE_ASSIGN_OR_RETURN(Stmt wal, conn->Prepare("PRAGMA journal_mode = WAL"));
    STOKE_ASSIGN_OR_RETURN(bool row, wal.Step());
    if (!row || wal.Text(0) != "wal") {
      return Err(Status::FailedPrecondition("cannot put " + options.path + " in WAL mode"));
    }
  }
  STOKE_RETURN_IF_ERROR(conn->Exec(options.synchronous_full ? "PRAGMA synchronous = FULL"
                                                            : "PRAGMA synchronous = NORMAL"));
  STOKE_RETURN_IF_ERROR(MigrateSchema(*conn));
  // Keep the WAL file from staying huge after a burst (e.g. a 1M-point metric import).
  STOKE_RETURN_IF_ERROR(conn->Exec("PRAGMA journal_size_limit = 67108864"));
  auto init_reader = [](SqliteConn& reader) -> Status {
    // Memory-mapped reads: long metric scans avoid a copy per page.
    STOKE_RETURN_IF_ERROR(reader.Exec("PRAGMA mmap_size = 268435456"));
    return RegisterMinMaxAggregate(reader);
  };
  STOKE_ASSIGN_OR_RETURN(std::unique_ptr<ReadPool> readers,
                         ReadPool::Open(options.path, options.read_connections, init_reader));
  auto writer = std::make_unique<GroupCommitter>(std::move(conn), options.max_batch);
  return std::unique_ptr<Store>(new Store(std::move(writer), std::move(readers)));
}

Store::WriteStats Store::write_stats() const {
  GroupCommitter::Stats s = writer_->stats();
  return WriteStats{s.writes, s.commits};
}

// ---------------------------------------------------------------------------- jobs

Result<Job> Store::CreateJob(Job job) {
  if (job.user.empty()) return Err(Status::InvalidArgument("job has no user", "user"));
  const std::string spec = EncodeSpec(job.spec);
  const std::string allocation = EncodeAllocation(job.allocation);
  Status s = writer_->Submit([&](SqliteConn& db) -> Status {
    STOKE_ASSIGN_OR_RETURN(
        Stmt stmt, db.Prepare("INSERT INTO jobs (user, name, state, spec, exit_code, reason, created_at, started_at, "
                              "finished_at, allocation, pid, pid_start_ticks, job_dir) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
    stmt.Bind(1, job.user)
        .Bind(2, job.spec.name)
        .Bind(3, JobStateName(job.state))
        .Bind(4, spec)
        .Bind(5, ExitCode(job))
        .Bind(6, job.reason)
        .Bind(7, job.created_at)
        .Bind(8, job.started_at)
        .Bind(9, job.finished_at)
        .Bind(10, allocation)
        .Bind(11, job.pid)
        .Bind(12, job.pid_start_ticks)
        .Bind(13, job.job_dir);
    STOKE_RETURN_IF_ERROR(stmt.Run());
    job.id = db.LastInsertRowid();
    return Status::Ok();
  });
  if (!s.ok()) return Err(s);
  return job;
}

Result<Job> Store::GetJob(JobId id) {
  auto db = readers_->Acquire();
  STOKE_ASSIGN_OR_RETURN(Stmt stmt, db->Prepare(JobSelect("WHERE id = ?1")));
  stmt.Bind(1, id);
  STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Err(Status::NotFound("job " + std::to_string(id) + " not found"));
  return ReadJob(stmt);
}

Result<JobPage> Store::ListJobs(const JobFilter& filter) {
  if (filter.limit < 1 || filter.limit > kMaxListLimit) {
    return Err(Status::InvalidArgument("limit must be within 1.." + std::to_string(kMaxListLimit), "limit"));
  }
  if (filter.before_id < 0) return Err(Status::InvalidArgument("cursor must not be negative", "cursor"));
  // The SQL text depends only on which filters are present (and how many states), so
  // the statement cache holds a handful of variants.
  std::set<std::string_view> states;
  for (JobState st : filter.states) states.insert(JobStateName(st));
  std::string where = "WHERE 1";
  int param = 0;
  if (!states.empty()) {
    where += " AND state IN (";
    for (size_t i = 0; i < states.size(); ++i) where += (i ? ", ?" : "?") + std::to_string(++param);
    where += ")";
  }
  if (!filter.user.empty()) where += " AND user = ?" + std::to_string(++param);
  if (!filter.name.empty()) where += " AND instr(name, ?" + std::to_string(++param) + ") > 0";
  if (filter.before_id > 0) where += " AND id < ?" + std::to_string(++param);
  where += " ORDER BY id DESC LIMIT ?" + std::to_string(++param);

  auto db = readers_->Acquire();
  STOKE_ASSIGN_OR_RETURN(Stmt stmt, db->Prepare(JobSelect(where)));
  int p = 0;
  for (std::string_view st : states) stmt.Bind(++p, st);
  if (!filter.user.empty()) stmt.Bind(++p, filter.user);
  if (!filter.name.empty()) stmt.Bind(++p, filter.name);
  if (filter.before_id > 0) stmt.Bind(++p, filter.before_id);
  stmt.Bind(++p, int64_t{filter.limit} + 1);  // one extra row tells whether a next page exists
  JobPage page;
  STOKE_ASSIGN_OR_RETURN(page.jobs, ReadJobs(stmt));
  if (static_cast<int>(page.jobs.size()) > filter.limit) {
    page.jobs.pop_back();
    page.next_before_id = page.jobs.back().id;
  }
  return page;
}

Result<std::vector<Job>> Store::ListUnfinishedJobs() {
  auto db = readers_->Acquire();
  STOKE_ASSIGN_OR_RETURN(Stmt stmt, db->Prepare(JobSelect("WHERE state IN ('QUEUED', 'STARTING', 'RUNNING') "
                                                          "ORDER BY id ASC")));
  return ReadJobs(stmt);
}

Status Store::UpdateJob(const Job& job, std::optional<JobState> expected_state) {
  const std::string allocation = EncodeAllocation(job.allocation);
  return writer_->Submit([&](SqliteConn& db) -> Status {
    {
      STOKE_ASSIGN_OR_RETURN(
          Stmt stmt, db.Prepare("UPDATE jobs SET state = ?2, exit_code = ?3, reason = ?4, started_at = ?5, "
                                "finished_at = ?6, allocation = ?7, pid = ?8, pid_start_ticks = ?9, job_dir = ?10 "
                                "WHERE id = ?1 AND (?11 IS NULL OR state = ?11)"));
      stmt.Bind(1, job.id)
          .Bind(2, JobStateName(job.state))
          .Bind(3, ExitCode(job))
          .Bind(4, job.reason)
          .Bind(5, job.started_at)
          .Bind(6, job.finished_at)
          .Bind(7, allocation)
          .Bind(8, job.pid)
          .Bind(9, job.pid_start_ticks)
          .Bind(10, job.job_dir);
      if (expected_state) {
        stmt.Bind(11, JobStateName(*expected_state));
      } else {
        stmt.BindNull(11);
      }
      STOKE_RETURN_IF_ERROR(stmt.Run());
    }
    if (db.Changes() > 0) return Status::Ok();
    STOKE_ASSIGN_OR_RETURN(Stmt cur, db.Prepare("SELECT state FROM jobs WHERE id = ?1"));
    cur.Bind(1, job.id);
    STOKE_ASSIGN_OR_RETURN(bool row, cur.Step());
    if (!row) return Status::NotFound("job " + std::to_string(job.id) + " not found");
    return Status::Aborted("job " + std::to_string(job.id) + " is " + cur.Text(0) + ", expected " +
                           std::string(JobStateName(*expected_state)));
  });
}

Status Store::DeleteJob(JobId id) {
  return writer_->Submit([&](SqliteConn& db) -> Status {
    STOKE_RETURN_IF_ERROR(CheckJobExists(db, id));
    for (const char* sql : {
             "DELETE FROM metric_points WHERE series_id IN (SELECT id FROM metric_series WHERE job_id = ?1)",
             "DELETE FROM metric_series WHERE job_id = ?1",
             "UPDATE tokens SET revoked = 1 WHERE job_scope = ?1 AND job_scope != 0",
             "DELETE FROM jobs WHERE id = ?1",
         }) {
      STOKE_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(sql));
      STOKE_RETURN_IF_ERROR(stmt.Bind(1, id).Run());
    }
    return Status::Ok();
  });
}

Result<std::map<JobState, int64_t>> Store::CountJobsByState() {
  std::map<JobState, int64_t> counts;
  for (JobState st : {JobState::kQueued, JobState::kStarting, JobState::kRunning, JobState::kCompleted,
                      JobState::kFailed, JobState::kKilled, JobState::kLost}) {
    counts[st] = 0;
  }
  auto db = readers_->Acquire();
  STOKE_ASSIGN_OR_RETURN(Stmt stmt, db->Prepare("SELECT state, count(*) FROM jobs GROUP BY state"));
  while (true) {
    STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::optional<JobState> st = ParseJobState(stmt.Text(0));
    if (st) counts[*st] = stmt.Int(1);
  }
  return counts;
}

// ---------------------------------------------------------------------------- metrics

Status Store::AppendMetrics(JobId id, const std::vector<MetricPoint>& points) {
  for (size_t i = 0; i < points.size(); ++i) {
    const MetricPoint& p = points[i];
    std::string field = "metrics[" + std::to_string(i) + "]";
    if (p.name.empty()) return Status::InvalidArgument("metric name is empty", field + ".name");
    if (p.step < 0) return Status::InvalidArgument("step must be >= 0", field + ".step");
    if (!std::isfinite(p.value)) return Status::InvalidArgument("value must be a finite number", field + ".value");
  }
  if (points.empty()) return Status::Ok();
  return writer_->Submit([&](SqliteConn& db) -> Status {
    STOKE_RETURN_IF_ERROR(CheckJobExists(db, id));
    std::unordered_map<std::string, int64_t> series;
    for (const MetricPoint& p : points) {
      STOKE_ASSIGN_OR_RETURN(int64_t sid, SeriesId(db, id, p.name, series));
      STOKE_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("INSERT OR REPLACE INTO metric_points (series_id, step, value, "
                                                   "time) VALUES (?1, ?2, ?3, ?4)"));
      STOKE_RETURN_IF_ERROR(stmt.Bind(1, sid).Bind(2, p.step).Bind(3, p.value).Bind(4, p.time).Run());
    }
    return Status::Ok();
  });
}

Result<std::vector<MetricSeries>> Store::QueryMetrics(JobId id, const std::vector<std::string>& names,
                                                      std::optional<int64_t> from, std::optional<int64_t> to,
                                                      int max_points) {
  if (max_points < 2) return Err(Status::InvalidArgument("points must be at least 2", "points"));
  const int64_t lo = from.value_or(std::numeric_limits<int64_t>::min());
  const int64_t hi = to.value_or(std::numeric_limits<int64_t>::max());
  const std::set<std::string> wanted(names.begin(), names.end());

  auto db = readers_->Acquire();
  ReadTxn txn(*db);  // one snapshot for the series list and all their points
  STOKE_RETURN_IF_ERROR(txn.status());
  STOKE_RETURN_IF_ERROR(CheckJobExists(*db, id));
  std::vector<std::pair<int64_t, std::string>> series;
  {
    STOKE_ASSIGN_OR_RETURN(Stmt stmt, db->Prepare("SELECT id, name FROM metric_series WHERE job_id = ?1 ORDER BY name"));
    stmt.Bind(1, id);
    while (true) {
      STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      std::string name = stmt.Text(1);
      if (wanted.empty() || wanted.contains(name)) series.emplace_back(stmt.Int(0), std::move(name));
    }
  }
  std::vector<MetricSeries> out;
  if (lo > hi) {
    for (auto& [sid, name] : series) out.push_back(MetricSeries{std::move(name), 0, {}});
    return out;
  }
  for (auto& [sid, name] : series) {
    MetricSeries ms{std::move(name), 0, {}};
    {
      // Cheap path first: read up to max_points + 1 points; only a longer series is bucketed.
      STOKE_ASSIGN_OR_RETURN(Stmt stmt, db->Prepare("SELECT step, value FROM metric_points WHERE series_id = ?1 AND "
                                                    "step BETWEEN ?2 AND ?3 ORDER BY step LIMIT ?4"));
      stmt.Bind(1, sid).Bind(2, lo).Bind(3, hi).Bind(4, int64_t{max_points} + 1);
      while (true) {
        STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) break;
        ms.points.emplace_back(stmt.Int(0), stmt.Double(1));
      }
    }
    if (static_cast<int64_t>(ms.points.size()) <= max_points) {
      ms.count = static_cast<int64_t>(ms.points.size());
    } else {
      STOKE_ASSIGN_OR_RETURN(ms.points, Downsample(*db, sid, lo, hi, max_points, ms.count));
    }
    out.push_back(std::move(ms));
  }
  return out;
}

Result<std::vector<std::string>> Store::MetricNames(JobId id) {
  auto db = readers_->Acquire();
  STOKE_ASSIGN_OR_RETURN(Stmt stmt, db->Prepare("SELECT name FROM metric_series WHERE job_id = ?1 ORDER BY name"));
  stmt.Bind(1, id);
  std::vector<std::string> names;
  while (true) {
    STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return names;
    names.push_back(stmt.Text(0));
  }
}

// ---------------------------------------------------------------------------- tokens

Result<TokenRecord> Store::CreateToken(TokenRecord rec) {
  if (rec.user.empty()) return Err(Status::InvalidArgument("token has no user", "user"));
  if (rec.hash.empty()) return Err(Status::InvalidArgument("token has no hash", "hash"));
  Status s = writer_->Submit([&](SqliteConn& db) -> Status {
    STOKE_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("INSERT INTO tokens (user, admin, job_scope, hash, created_at, "
                                                 "revoked) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    stmt.Bind(1, rec.user)
        .Bind(2, int64_t{rec.admin})
        .Bind(3, rec.job_scope)
        .Bind(4, rec.hash)
        .Bind(5, rec.created_at)
        .Bind(6, int64_t{rec.revoked});
    Status run = stmt.Run();
    if (run.code() == StatusCode::kAlreadyExists) return Status::AlreadyExists("a token with this hash exists");
    STOKE_RETURN_IF_ERROR(run);
    rec.id = db.LastInsertRowid();
    return Status::Ok();
  });
  if (!s.ok()) return Err(s);
  return rec;
}

Result<std::optional<TokenRecord>> Store::FindTokenByHash(const std::string& hash) {
  auto db = readers_->Acquire();
  STOKE_ASSIGN_OR_RETURN(Stmt stmt, db->Prepare("SELECT " + std::string(kTokenColumns) +
                                                " FROM tokens WHERE hash = ?1"));
  stmt.Bind(1, hash);
  STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(ReadToken(stmt));
}

Result<std::vector<TokenRecord>> Store::ListTokens() {
  auto db = readers_->Acquire();
  STOKE_ASSIGN_OR_RETURN(Stmt stmt, db->Prepare("SELECT " + std::string(kTokenColumns) + " FROM tokens ORDER BY id"));
  std::vector<TokenRecord> tokens;
  while (true) {
    STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return tokens;
    tokens.push_back(ReadToken(stmt));
  }
}

Status Store::RevokeToken(int64_t id) {
  return writer_->Submit([&](SqliteConn& db) -> Status {
    STOKE_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("UPDATE tokens SET revoked = 1 WHERE id = ?1"));
    STOKE_RETURN_IF_ERROR(stmt.Bind(1, id).Run());
    if (db.Changes() == 0) return Status::NotFound("token " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

Status Store::RevokeJobTokens(JobId id) {
  return writer_->Submit([&](SqliteConn& db) -> Status {
    STOKE_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("UPDATE tokens SET revoked = 1 WHERE job_scope = ?1 AND "
                                                 "job_scope != 0"));
    return stmt.Bind(1, id).Run();
  });
}

// ---------------------------------------------------------------------------- key-value

Status Store::Put(std::string_view ns, std::string_view key, std::string_view value) {
  if (ns.empty()) return Status::InvalidArgument("namespace is empty", "ns");
  return writer_->Submit([&](SqliteConn& db) -> Status {
    STOKE_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?1, ?2, ?3)"));
    return stmt.Bind(1, ns).Bind(2, key).BindBlob(3, value).Run();
  });
}

Result<std::optional<std::string>> Store::Get(std::string_view ns, std::string_view key) {
  auto db = readers_->Acquire();
  STOKE_ASSIGN_OR_RETURN(Stmt stmt, db->Prepare("SELECT value FROM kv WHERE ns = ?1 AND key = ?2"));
  stmt.Bind(1, ns).Bind(2, key);
  STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.Text(0));
}

Result<std::vector<std::pair<std::string, std::string>>> Store::List(std::string_view ns) {
  auto db = readers_->Acquire();
  STOKE_ASSIGN_OR_RETURN(Stmt stmt, db->Prepare("SELECT key, value FROM kv WHERE ns = ?1 ORDER BY key"));
  stmt.Bind(1, ns);
  std::vector<std::pair<std::string, std::string>> items;
  while (true) {
    STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return items;
    items.emplace_back(stmt.Text(0), stmt.Text(1));
  }
}

Status Store::Erase(std::string_view ns, std::string_view key) {
  return writer_->Submit([&](SqliteConn& db) -> Status {
    STOKE_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("DELETE FROM kv WHERE ns = ?1 AND key = ?2"));
    return stmt.Bind(1, ns).Bind(2, key).Run();
  });
}

}  // namespace stoke::store
