#include "store/sqlite_conn.h"

#include <sqlite3.h>

#include <string>
#include <utility>

namespace stoke::store {

Status SqliteStatus(sqlite3* db, int rc, std::string_view context) {
  std::string msg(context);
  msg += ": ";
  msg += (db != nullptr && sqlite3_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return Status::Ok();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(std::move(msg));
    case SQLITE_CONSTRAINT:
      return Status::AlreadyExists(std::move(msg));
    case SQLITE_FULL:
      return Status::ResourceExhausted(std::move(msg));
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_NOTADB:
      return Status::FailedPrecondition(std::move(msg));  // fix the file or its permissions
    default:
      return Status::Internal(std::move(msg));
  }
}

Stmt::~Stmt() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Stmt& Stmt::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Stmt& Stmt::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

Stmt& Stmt::Bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Stmt& Stmt::BindBlob(int index, std::string_view bytes) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static const char kEmpty = 0;
  sqlite3_bind_blob64(stmt_, index, bytes.empty() ? &kEmpty : bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Err(SqliteStatus(sqlite3_db_handle(stmt_), rc, "sqlite step"));
}

Status Stmt::Run() {
  while (true) {
    STOKE_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void Stmt::Reset() { sqlite3_reset(stmt_); }

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
double Stmt::Double(int col) const { return sqlite3_column_double(stmt_, col); }
bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::string Stmt::Text(int col) const {
  // Works for TEXT and BLOB columns alike; bytes are copied before the next step.
  const void* data = sqlite3_column_blob(stmt_, col);
  int size = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

Result<std::unique_ptr<SqliteConn>> SqliteConn::Open(const std::string& path, bool query_only) {
  sqlite3* db = nullptr;
  // NOMUTEX: the store never shares one connection between threads at the same time.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteStatus(db, rc, "open " + path);
    sqlite3_close_v2(db);
    return Err(s);
  }
  sqlite3_extended_result_codes(db, 0);
  std::unique_ptr<SqliteConn> conn(new SqliteConn(db));
  // Wait for a lock rather than failing at once (another process, or a checkpoint).
  STOKE_RETURN_IF_ERROR(conn->Exec("PRAGMA busy_timeout = 5000"));
  if (query_only) STOKE_RETURN_IF_ERROR(conn->Exec("PRAGMA query_only = 1"));
  return conn;
}

SqliteConn::~SqliteConn() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status SqliteConn::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  Status s = SqliteStatus(nullptr, rc, "exec");
  return Status(s.code(), "sqlite exec: " + msg);
}

Result<Stmt> SqliteConn::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Stmt(it->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                              nullptr);
  if (rc != SQLITE_OK) return Err(SqliteStatus(db_, rc, "prepare"));
  cache_.emplace(sql, stmt);
  return Stmt(stmt);
}

Result<int64_t> SqliteConn::QueryInt(const std::string& sql) {
  STOKE_ASSIGN_OR_RETURN(Stmt stmt, Prepare(sql));
  STOKE_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Err(Status::Internal("no row from: " + sql));
  return stmt.Int(0);
}

int64_t SqliteConn::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
int64_t SqliteConn::Changes() const { return sqlite3_changes64(db_); }
bool SqliteConn::AutoCommit() const { return sqlite3_get_autocommit(db_) != 0; }

}  // namespace stoke::store
