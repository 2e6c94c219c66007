#include "store/read_pool.h"

namespace stoke::store {

Result<std::unique_ptr<ReadPool>> ReadPool::Open(const std::string& path, int size,
                                                 const std::function<Status(SqliteConn&)>& init) {
  std::unique_ptr<ReadPool> pool(new ReadPool());
  for (int i = 0; i < (size > 0 ? size : 1); ++i) {
    STOKE_ASSIGN_OR_RETURN(auto conn, SqliteConn::Open(path, /*query_only=*/true));
    if (init) STOKE_RETURN_IF_ERROR(init(*conn));
    pool->free_.push_back(conn.get());
    pool->conns_.push_back(std::move(conn));
  }
  return pool;
}

ReadPool::Lease ReadPool::Acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !free_.empty(); });
  SqliteConn* conn = free_.back();
  free_.pop_back();
  return Lease(this, conn);
}

void ReadPool::Release(SqliteConn* conn) {
  {
    std::lock_guard lock(mu_);
    free_.push_back(conn);
  }
  cv_.notify_one();
}

}  // namespace stoke::store
