#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/sqlite_conn.h"

namespace stoke::store {

// A fixed set of query-only connections. A reader borrows one exclusively for the
// duration of a lease (blocking while all are lent out); in WAL mode readers never block
// the writer nor each other, and each statement sees the last committed state.
// Thread-safe.
class ReadPool {
 public:
  // Returns the connection to the pool when destroyed.
  class Lease {
   public:
    Lease(ReadPool* pool, SqliteConn* conn) : pool_(pool), conn_(conn) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(other.conn_) { other.conn_ = nullptr; }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Release(conn_);
    }
    SqliteConn& operator*() const { return *conn_; }
    SqliteConn* operator->() const { return conn_; }

   private:
    ReadPool* pool_;
    SqliteConn* conn_;
  };

  // `init` runs once on every new connection (to register functions, set pragmas).
  static Result<std::unique_ptr<ReadPool>> Open(const std::string& path, int size,
                                                const std::function<Status(SqliteConn&)>& init);

  Lease Acquire();

 private:
  ReadPool() = default;
  void Release(SqliteConn* conn);

  std::vector<std::unique_ptr<SqliteConn>> conns_;  // owned; fixed after Open
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SqliteConn*> free_;  // GUARDED_BY(mu_)
};

}  // namespace stoke::store
