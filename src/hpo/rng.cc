#include "hpo/rng.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

namespace stoke::hpo {
namespace {

constexpr unsigned __int128 kMultiplier =
    (static_cast<unsigned __int128>(0x2360ED051FC65DA4ULL) << 64) | 0x4385DF649FCCF645ULL;

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Rng::Rng(uint64_t seed, uint64_t stream) {
  inc_ = (static_cast<unsigned __int128>(stream) << 1) | 1u;
  state_ = 0;
  NextU64();
  state_ += seed;
  NextU64();
}

uint64_t Rng::NextU64() {
  state_ = state_ * kMultiplier + inc_;
  const uint64_t x = static_cast<uint64_t>(state_ >> 64) ^ static_cast<uint64_t>(state_);
  const unsigned rot = static_cast<unsigned>(state_ >> 122);
  return (x >> rot) | (x << ((64 - rot) & 63));
}

double Rng::Uniform01() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

uint64_t Rng::UniformInt(uint64_t n) {
  // Lemire's nearly-divisionless method: unbiased, usually one draw.
  unsigned __int128 m = static_cast<unsigned __int128>(NextU64()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(NextU64()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double Rng::Normal() {
  const double u1 = 1.0 - Uniform01();  // (0, 1]: log is finite
  const double u2 = Uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

size_t Rng::Categorical(std::span<const double> weights) {
  double total = 0;
  for (double w : weights) total += w;
  double target = Uniform01() * total;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (target < weights[i]) return i;
    target -= weights[i];
  }
  // Rounding left the target past the end: return the last index with weight.
  for (size_t i = weights.size(); i-- > 0;) {
    if (weights[i] > 0) return i;
  }
  return 0;
}

std::string Rng::Serialize() const {
  return "pcg64:" + Hex(static_cast<uint64_t>(state_ >> 64)) + ":" + Hex(static_cast<uint64_t>(state_)) + ":" +
         Hex(static_cast<uint64_t>(inc_ >> 64)) + ":" + Hex(static_cast<uint64_t>(inc_));
}

Status Rng::Deserialize(std::string_view text) {
  constexpr std::string_view kPrefix = "pcg64:";
  if (!text.starts_with(kPrefix)) return Status::InvalidArgument("rng state does not start with pcg64:");
  text.remove_prefix(kPrefix.size());
  uint64_t words[4];
  for (int i = 0; i < 4; ++i) {
    if (text.size() < 16) return Status::InvalidArgument("rng state is truncated");
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + 16, words[i], 16);
    if (ec != std::errc() || ptr != text.data() + 16) return Status::InvalidArgument("rng state is not hex");
    text.remove_prefix(16);
    if (i < 3) {
      if (text.empty() || text.front() != ':') return Status::InvalidArgument("rng state lacks ':'");
      text.remove_prefix(1);
    }
  }
  if (!text.empty()) return Status::InvalidArgument("rng state has trailing characters");
  state_ = (static_cast<unsigned __int128>(words[0]) << 64) | words[1];
  inc_ = (static_cast<unsigned __int128>(words[2]) << 64) | words[3];
  return Status::Ok();
}

}  // namespace stoke::hpo
