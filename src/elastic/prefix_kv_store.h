#pragma once

#include <string>

#include "elastic/kv_store.h"

namespace stoke::elastic {

// Scopes every key of a shared KvStore under `prefix` (gloo's PrefixStore), e.g. one job's
// rendezvous ("jobs/42/") or one generation's process group ("gen/7/pg/").
// Thread-safe when the base store is. Does not own `base`, which must outlive it.
class PrefixKvStore final : public KvStore {
 public:
  PrefixKvStore(std::string prefix, KvStore& base) : prefix_(std::move(prefix)), base_(base) {}

  Status Set(std::string_view key, std::string_view value) override;
  Result<std::string> Get(std::string_view key) override;
  Result<int64_t> Add(std::string_view key, int64_t delta) override;
  Result<bool> CompareSet(std::string_view key, std::optional<std::string_view> expected,
                          std::string_view desired) override;
  Status Wait(std::span<const std::string> keys, std::chrono::milliseconds timeout) override;
  Result<bool> Delete(std::string_view key) override;

  const std::string& prefix() const { return prefix_; }

 private:
  std::string Full(std::string_view key) const { return prefix_ + std::string(key); }

  const std::string prefix_;
  KvStore& base_;
};

}  // namespace stoke::elastic
