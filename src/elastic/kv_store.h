#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace stoke::elastic {

// A narrow key-value store for rendezvous and membership (gloo's Store, c10d's Store).
// Values are opaque byte strings; counters written by Add are stored as decimal text.
// Implementations must be safe for concurrent use from many threads and, for the shared
// ones, many processes. Semantics every implementation follows (see kv_store_conformance.h):
class KvStore {
 public:
  virtual ~KvStore() = default;

  // Creates or overwrites `key`.
  virtual Status Set(std::string_view key, std::string_view value) = 0;
  // The value of `key`, or kNotFound right away when it is absent (never blocks).
  virtual Result<std::string> Get(std::string_view key) = 0;
  // Adds `delta` to the decimal counter at `key` (absent = 0) and returns the new value.
  // kFailedPrecondition when the stored value is not a decimal integer.
  virtual Result<int64_t> Add(std::string_view key, int64_t delta) = 0;
  // Atomically stores `desired` when the current value equals `expected` (nullopt: the key
  // must be absent). Returns whether it stored.
  virtual Result<bool> CompareSet(std::string_view key, std::optional<std::string_view> expected,
                                  std::string_view desired) = 0;
  // Blocks until every key exists: OK, or kDeadlineExceeded after `timeout`.
  virtual Status Wait(std::span<const std::string> keys, std::chrono::milliseconds timeout) = 0;
  // Removes `key`; returns whether it existed.
  virtual Result<bool> Delete(std::string_view key) = 0;
};

}  // namespace stoke::elastic
