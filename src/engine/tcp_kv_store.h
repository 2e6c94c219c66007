#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "elastic/kv_store.h"

namespace c10d {
class TCPStore;
}

namespace stoke::engine {

// A KvStore shared across processes, on c10d's TCPStore: one process hosts it (is_server), the
// others connect. For tests, benchmarks and `stoke-worker rendezvous`; the server hosts jobs'
// stores itself. Thread-safe: each concurrent caller gets its own connection from a pool, so a
// long Wait does not block heartbeats.
class TcpKvStore final : public elastic::KvStore {
 public:
  static Result<std::unique_ptr<TcpKvStore>> Open(const std::string& host, int port, bool is_server,
                                                  std::chrono::milliseconds connect_timeout);
  ~TcpKvStore() override;

  Status Set(std::string_view key, std::string_view value) override;
  Result<std::string> Get(std::string_view key) override;
  Result<int64_t> Add(std::string_view key, int64_t delta) override;
  Result<bool> CompareSet(std::string_view key, std::optional<std::string_view> expected,
                          std::string_view desired) override;
  Status Wait(std::span<const std::string> keys, std::chrono::milliseconds timeout) override;
  Result<bool> Delete(std::string_view key) override;

  int port() const { return port_; }

 private:
  TcpKvStore(std::string host, int port, std::chrono::milliseconds timeout);
  class Lease;
  Result<std::unique_ptr<c10d::TCPStore>> Connect();

  const std::string host_;
  int port_;
  const std::chrono::milliseconds timeout_;
  std::unique_ptr<c10d::TCPStore> server_;  // set in the hosting process
  std::mutex mu_;
  std::vector<std::unique_ptr<c10d::TCPStore>> idle_;  // GUARDED_BY(mu_)
};

}  // namespace stoke::engine
