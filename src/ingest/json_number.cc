#include "ingest/json_number.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace stoke::ingest {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<double> ParseDouble(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace

std::optional<double> ReadNumber(const nlohmann::json& value) {
  if (value.is_number()) {
    double d = value.get<double>();
    return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
  }
  if (value.is_string()) return ParseDouble(value.get_ref<const std::string&>());
  return std::nullopt;
}

std::optional<int64_t> ReadStep(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_string()) {
    std::string_view text = Trim(value.get_ref<const std::string&>());
    int64_t step = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), step);
    if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return step;
  }
  std::optional<double> d = ReadNumber(value);
  // Whole numbers written as floats ("3.0") are steps too; 2^62 keeps the cast exact and safe.
  if (!d || *d != std::floor(*d) || std::fabs(*d) > 4.6e18) return std::nullopt;
  return static_cast<int64_t>(*d);
}

}  // namespace stoke::ingest
