#include "store/group_committer.h"

#include <utility>

namespace stoke::store {

GroupCommitter::GroupCommitter(std::unique_ptr<SqliteConn> conn, int max_batch)
    : conn_(std::move(conn)), max_batch_(max_batch > 0 ? max_batch : 1), writer_([this] { Run(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  writer_.join();
}

Status GroupCommitter::Submit(WriteFn fn) {
  Request req{std::move(fn), Status::Ok(), false};
  std::unique_lock lock(mu_);
  if (stopping_) return Status::Unavailable("store is closing");
  queue_.push_back(&req);
  // Only wake the writer when it may be idle; while it commits it will find the queue.
  if (queue_.size() == 1) work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return req.done; });
  return std::move(req.result);
}

GroupCommitter::Stats GroupCommitter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void GroupCommitter::Run() {
  std::deque<Request*> batch;
  while (true) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
    int64_t committed = 0;
    {
      std::lock_guard lock(mu_);
      for (Request* req : batch) {
        if (req->result.ok()) ++committed;
        req->done = true;
      }
      stats_.writes += committed;
      if (committed > 0) ++stats_.commits;
    }
    done_cv_.notify_all();
    batch.clear();
  }
}

Status GroupCommitter::Begin() { return conn_->Exec("BEGIN IMMEDIATE"); }

void GroupCommitter::CommitBatch(std::deque<Request*>& batch) {
  Status begun = Begin();
  if (!begun.ok()) {
    for (Request* req : batch) req->result = begun;
    return;
  }
  size_t first_in_txn = 0;  // requests before this index were already settled
  for (size_t i = 0; i < batch.size(); ++i) {
    Request* req = batch[i];
    Status s = conn_->Exec("SAVEPOINT w");
    if (s.ok()) {
      // A write function must not throw; treat an escaped exception as an internal error.
      try {
        s = req->fn(*conn_);
      } catch (const std::exception& e) {
        s = Status::Internal(std::string("write threw: ") + e.what());
      }
      if (s.ok()) {
        s = conn_->Exec("RELEASE w");
      } else if (!conn_->AutoCommit()) {
        (void)conn_->Exec("ROLLBACK TO w; RELEASE w");
      }
    }
    req->result = s;
    if (conn_->AutoCommit()) {
      // SQLite abandoned the whole transaction (I/O error, disk full): the earlier
      // writes of this batch are gone too. Fail them, and go on in a fresh transaction.
      Status lost = s.ok() ? Status::Internal("transaction lost") : s;
      for (size_t j = first_in_txn; j < i; ++j) {
        if (batch[j]->result.ok()) batch[j]->result = lost.WithContext("batch rolled back");
      }
      if (req->result.ok()) req->result = lost;
      first_in_txn = i + 1;
      Status again = Begin();
      if (!again.ok()) {
        for (size_t j = i + 1; j < batch.size(); ++j) batch[j]->result = again;
        return;
      }
    }
  }
  Status committed = conn_->Exec("COMMIT");
  if (!committed.ok()) {
    (void)conn_->Exec("ROLLBACK");
    for (size_t j = first_in_txn; j < batch.size(); ++j) {
      if (batch[j]->result.ok()) batch[j]->result = committed.WithContext("commit");
    }
  }
}

}  // namespace stoke::store
