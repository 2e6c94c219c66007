#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "store/sqlite_conn.h"

namespace stoke::store {

// Group commit: callers hand write functions to one writer thread, which runs every
// function waiting at that moment inside one transaction (each in its own SAVEPOINT, so
// a failing write is undone alone), commits once (one fsync with synchronous=FULL) and
// then wakes all those callers. Submit returns only after the commit is durable, or with
// the error that kept this write (or the whole batch) from committing.
// Thread-safe: Submit may be called from any number of threads.
class GroupCommitter {
 public:
  // A write runs on the writer thread with the writer connection, inside an open
  // transaction. It must not BEGIN/COMMIT itself. A non-OK Status undoes only this write.
  using WriteFn = std::function<Status(SqliteConn&)>;

  struct Stats {
    int64_t writes = 0;   // writes committed
    int64_t commits = 0;  // transactions committed
  };

  // Takes the (already migrated) writer connection; starts the writer thread.
  GroupCommitter(std::unique_ptr<SqliteConn> conn, int max_batch);
  // Runs the writes already submitted, then stops the writer thread.
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Blocks until `fn` is committed (or failed). kUnavailable after shutdown began.
  Status Submit(WriteFn fn);

  Stats stats() const;

 private:
  struct Request {
    WriteFn fn;
    Status result;
    bool done = false;
  };

  void Run();
  // Runs one batch in one transaction; fills each request's result.
  void CommitBatch(std::deque<Request*>& batch);
  Status Begin();

  std::unique_ptr<SqliteConn> conn_;  // used only by the writer thread after construction
  const int max_batch_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // writer waits for requests
  std::condition_variable done_cv_;  // callers wait for their request's `done`
  std::deque<Request*> queue_;       // GUARDED_BY(mu_)
  bool stopping_ = false;            // GUARDED_BY(mu_)
  Stats stats_;                      // GUARDED_BY(mu_)

  std::thread writer_;  // last: starts after every member above is initialised
};

}  // namespace stoke::store
