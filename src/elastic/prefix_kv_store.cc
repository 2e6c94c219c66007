#include "elastic/prefix_kv_store.h"

#include <vector>

namespace stoke::elastic {

Status PrefixKvStore::Set(std::string_view key, std::string_view value) { return base_.Set(Full(key), value); }

Result<std::string> PrefixKvStore::Get(std::string_view key) { return base_.Get(Full(key)); }

Result<int64_t> PrefixKvStore::Add(std::string_view key, int64_t delta) { return base_.Add(Full(key), delta); }

Result<bool> PrefixKvStore::CompareSet(std::string_view key, std::optional<std::string_view> expected,
                                       std::string_view desired) {
  return base_.CompareSet(Full(key), expected, desired);
}

Status PrefixKvStore::Wait(std::span<const std::string> keys, std::chrono::milliseconds timeout) {
  std::vector<std::string> full;
  full.reserve(keys.size());
  for (const auto& k : keys) full.push_back(Full(k));
  return base_.Wait(full, timeout);
}

Result<bool> PrefixKvStore::Delete(std::string_view key) { return base_.Delete(Full(key)); }

}  // namespace stoke::elastic
