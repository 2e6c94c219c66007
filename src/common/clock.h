#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace stoke {

// Wall-clock milliseconds since the Unix epoch: what the store records and the API shows.
using UnixMillis = int64_t;

// Time as an injectable dependency (Ray's ClockInterface, leveldb's Env::NowMicros).
// Components with timers take a `const Clock&`; pure cores take `now` as an input.
// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixMillis NowMillis() const = 0;
  // Monotonic time for measuring durations and deadlines.
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixMillis NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::chrono::steady_clock::time_point SteadyNow() const override { return std::chrono::steady_clock::now(); }
};

// Formats as RFC 3339 UTC with milliseconds: 2026-11-26T14:02:10.123Z.
std::string FormatRfc3339(UnixMillis ms);

}  // namespace stoke
