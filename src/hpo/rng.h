#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace stoke::hpo {

// PCG64 (XSL-RR 128/64) with hand-written draws on top of the raw 64-bit outputs, so that every
// standard library produces the same sequence (std::*_distribution algorithms differ between
// libstdc++, libc++ and MSVC). The full state serializes to a short string.
// Not thread-safe: one Rng per searcher.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0, uint64_t stream = 0x5851F42D4C957F2DULL);

  uint64_t NextU64();
  // Uniform in [0, 1) with 53 random bits.
  double Uniform01();
  // Uniform in [low, high).
  double Uniform(double low, double high) { return low + (high - low) * Uniform01(); }
  // Uniform integer in [0, n). REQUIRES: n > 0.
  uint64_t UniformInt(uint64_t n);
  // Standard normal by Box-Muller (two uniforms per draw; no cached second value).
  double Normal();
  // Index drawn with probability proportional to weights[i] (non-negative, not all zero).
  size_t Categorical(std::span<const double> weights);

  // "pcg64:<state-hi>:<state-lo>:<inc-hi>:<inc-lo>" in hex.
  std::string Serialize() const;
  Status Deserialize(std::string_view text);

  bool operator==(const Rng&) const = default;

 private:
  unsigned __int128 state_ = 0;
  unsigned __int128 inc_ = 0;
};

}  // namespace stoke::hpo
