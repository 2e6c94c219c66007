#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

#include "elastic/kv_store.h"

namespace stoke::elastic {

// An in-process KvStore (a map under a mutex; Wait sleeps on a condition variable).
// Thread-safe. Used by tests, by one-process multi-rank runs and as the server's per-job store.
class MemoryKvStore final : public KvStore {
 public:
  Status Set(std::string_view key, std::string_view value) override;
  Result<std::string> Get(std::string_view key) override;
  Result<int64_t> Add(std::string_view key, int64_t delta) override;
  Result<bool> CompareSet(std::string_view key, std::optional<std::string_view> expected,
                          std::string_view desired) override;
  Status Wait(std::span<const std::string> keys, std::chrono::milliseconds timeout) override;
  Result<bool> Delete(std::string_view key) override;

  // Number of keys stored (for tests and leak checks).
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, std::string, std::less<>> data_;  // GUARDED_BY(mu_)
};

}  // namespace stoke::elastic
