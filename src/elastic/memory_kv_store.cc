#include "elastic/memory_kv_store.h"

#include <charconv>

namespace stoke::elastic {

Status MemoryKvStore::Set(std::string_view key, std::string_view value) {
  {
    std::lock_guard lock(mu_);
    data_.insert_or_assign(std::string(key), std::string(value));
  }
  changed_.notify_all();
  return Status::Ok();
}

Result<std::string> MemoryKvStore::Get(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = data_.find(key);
  if (it == data_.end()) return Err(Status::NotFound("no key " + std::string(key)));
  return it->second;
}

Result<int64_t> MemoryKvStore::Add(std::string_view key, int64_t delta) {
  int64_t value = 0;
  {
    std::lock_guard lock(mu_);
    auto it = data_.find(key);
    if (it != data_.end()) {
      const std::string& text = it->second;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || end != text.data() + text.size()) {
        return Err(Status::FailedPrecondition("key " + std::string(key) + " does not hold an integer"));
      }
    }
    value += delta;
    data_.insert_or_assign(std::string(key), std::to_string(value));
  }
  changed_.notify_all();
  return value;
}

Result<bool> MemoryKvStore::CompareSet(std::string_view key, std::optional<std::string_view> expected,
                                       std::string_view desired) {
  {
    std::lock_guard lock(mu_);
    auto it = data_.find(key);
    bool matches = expected.has_value() ? (it != data_.end() && it->second == *expected) : it == data_.end();
    if (!matches) return false;
    data_.insert_or_assign(std::string(key), std::string(desired));
  }
  changed_.notify_all();
  return true;
}

Status MemoryKvStore::Wait(std::span<const std::string> keys, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  bool all = changed_.wait_for(lock, timeout, [&] {
    for (const auto& k : keys) {
      if (!data_.contains(k)) return false;
    }
    return true;
  });
  if (!all) return Status::DeadlineExceeded("timed out waiting for store keys");
  return Status::Ok();
}

Result<bool> MemoryKvStore::Delete(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = data_.find(key);
  if (it == data_.end()) return false;
  data_.erase(it);
  return true;
}

size_t MemoryKvStore::size() const {
  std::lock_guard lock(mu_);
  return data_.size();
}

}  // namespace stoke::elastic
