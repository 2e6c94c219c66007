#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace stoke::store {

// Converts an SQLite result code (and the connection's message) into a Status.
// SQLITE_BUSY/LOCKED become kUnavailable (retryable); constraint violations kAlreadyExists.
Status SqliteStatus(sqlite3* db, int rc, std::string_view context);

// One prepared statement borrowed from a connection's cache. Resets and clears its
// bindings when it goes out of scope, so the cached statement is ready for the next use.
// Not thread-safe: used by the thread that holds the connection.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  ~Stmt();

  // Parameters are 1-based, as in SQLite. Text and blobs are copied (SQLITE_TRANSIENT).
  Stmt& Bind(int index, int64_t value);
  Stmt& Bind(int index, double value);
  Stmt& Bind(int index, std::string_view text);
  Stmt& BindBlob(int index, std::string_view bytes);
  Stmt& BindNull(int index);
  Stmt& Bind(int index, std::optional<int64_t> value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // Advances: Result true = a row is available, false = done.
  Result<bool> Step();
  // Runs to completion, ignoring rows.
  Status Run();
  // Rewinds for another execution with the same statement (bindings are kept).
  void Reset();

  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;
  bool IsNull(int col) const;

 private:
  sqlite3_stmt* stmt_;
};

// An owned SQLite connection with a cache of prepared statements keyed by SQL text.
// Not thread-safe: one thread at a time (the store hands connections out exclusively).
class SqliteConn {
 public:
  // Opens (creating when missing) the database file. `query_only` forbids writes.
  static Result<std::unique_ptr<SqliteConn>> Open(const std::string& path, bool query_only);
  ~SqliteConn();
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  // Runs one or more statements without results (DDL, PRAGMA, BEGIN/COMMIT).
  Status Exec(std::string_view sql);
  // Returns a cached prepared statement for `sql` (prepared on first use).
  Result<Stmt> Prepare(const std::string& sql);
  // Runs a single-value query such as "PRAGMA user_version".
  Result<int64_t> QueryInt(const std::string& sql);

  int64_t LastInsertRowid() const;
  int64_t Changes() const;
  // True when no transaction is open (SQLite rolled back or never began one).
  bool AutoCommit() const;
  sqlite3* raw() { return db_; }

 private:
  explicit SqliteConn(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace stoke::store
