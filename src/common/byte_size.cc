#include "common/byte_size.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace stoke {
namespace {

// Returns the power of 1024 a suffix stands for, or -1 when it is not a size suffix.
int SuffixPower(std::string_view suffix) {
  std::string s;
  for (char c : suffix) s.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (s.empty() || s == "B") return 0;
  static constexpr std::string_view kUnits = "KMGT";
  if (s.size() > 3) return -1;
  size_t pos = kUnits.find(s[0]);
  if (pos == std::string_view::npos) return -1;
  std::string_view rest = std::string_view(s).substr(1);
  if (rest.empty() || rest == "B" || rest == "IB") return static_cast<int>(pos) + 1;
  return -1;
}

}  // namespace

Result<int64_t> ParseByteSize(std::string_view text) {
  auto invalid = [&](std::string why) {
    return Err(Status::InvalidArgument("invalid size \"" + std::string(text) + "\": " + why));
  };
  std::string_view t = text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  if (t.empty()) return invalid("empty");
  size_t num_end = 0;
  while (num_end < t.size() && (std::isdigit(static_cast<unsigned char>(t[num_end])) || t[num_end] == '.')) {
    ++num_end;
  }
  std::string_view number = t.substr(0, num_end);
  std::string_view suffix = t.substr(num_end);
  while (!suffix.empty() && std::isspace(static_cast<unsigned char>(suffix.front()))) suffix.remove_prefix(1);
  if (number.empty()) return invalid("expected a non-negative number with an optional K/M/G/T suffix");
  int power = SuffixPower(suffix);
  if (power < 0) return invalid("unknown unit \"" + std::string(suffix) + "\" (use K, M, G or T)");

  if (number.find('.') == std::string_view::npos) {
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || ptr != number.data() + number.size()) return invalid("number out of range");
    for (int i = 0; i < power; ++i) {
      if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / 1024) return invalid("too large");
      value *= 1024;
    }
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return invalid("too large");
    return static_cast<int64_t>(value);
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || ptr != number.data() + number.size()) return invalid("not a number");
  double bytes = std::floor(value * std::pow(1024.0, power));
  // 2^63 is exactly representable; anything at or above it does not fit.
  if (!std::isfinite(bytes) || bytes >= 9223372036854775808.0) return invalid("too large");
  return static_cast<int64_t>(bytes);
}

std::string FormatByteSize(int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "K", "M", "G", "T", "P", "E"};
  if (bytes < 1024) return std::to_string(bytes) + "B";
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 6) {
    value /= 1024.0;
    ++unit;
  }
  // One decimal unless the value is whole.
  double rounded = std::round(value * 10.0) / 10.0;
  if (rounded == std::floor(rounded)) return std::to_string(static_cast<int64_t>(rounded)) + kUnits[unit];
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%s", rounded, kUnits[unit]);
  return buf;
}

}  // namespace stoke
