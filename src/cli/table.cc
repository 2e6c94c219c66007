#include "cli/table.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>

namespace stoke::cli {
namespace {

// Counts UTF-8 code points (bytes that are not continuation bytes).
size_t DisplayWidth(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool ReadInt(std::string_view s, size_t pos, size_t len, int& out) {
  if (pos + len > s.size()) return false;
  for (size_t i = pos; i < pos + len; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return true;
}

}  // namespace

std::string RenderTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  size_t columns = header.size();
  for (const auto& row : rows) columns = std::max(columns, row.size());
  std::vector<size_t> width(columns, 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], DisplayWidth(row[i]));
  };
  measure(header);
  for (const auto& row : rows) measure(row);

  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < columns; ++i) {
      std::string_view cell = i < row.size() ? std::string_view(row[i]) : std::string_view();
      line += cell;
      if (i + 1 < columns) line.append(width[i] - DisplayWidth(cell) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  emit(header);
  for (const auto& row : rows) emit(row);
  return out;
}

Result<UnixMillis> ParseRfc3339(std::string_view text) {
  auto invalid = [&] { return Err(Status::InvalidArgument("not an RFC 3339 timestamp: \"" + std::string(text) + "\"")); };
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      text[13] != ':' || text[16] != ':') {
    return invalid();
  }
  if (!ReadInt(text, 0, 4, year) || !ReadInt(text, 5, 2, month) || !ReadInt(text, 8, 2, day) ||
      !ReadInt(text, 11, 2, hour) || !ReadInt(text, 14, 2, minute) || !ReadInt(text, 17, 2, second)) {
    return invalid();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return invalid();
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100;
    size_t digits = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++digits;
    }
    if (digits == 0) return invalid();
  }
  int64_t offset_s = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (pos + 6 != text.size() || text[pos + 3] != ':' || !ReadInt(text, pos + 1, 2, oh) ||
        !ReadInt(text, pos + 4, 2, om)) {
      return invalid();
    }
    offset_s = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return invalid();
  }
  if (pos != text.size()) return invalid();
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t seconds = static_cast<int64_t>(::timegm(&tm)) - offset_s;
  return seconds * 1000 + millis;
}

std::string FormatDuration(int64_t millis) {
  if (millis < 0) millis = 0;
  int64_t s = millis / 1000;
  if (s < 60) return std::to_string(s) + "s";
  int64_t m = s / 60;
  if (m < 60) return std::to_string(m) + "m";
  int64_t h = m / 60;
  if (h < 24) return std::to_string(h) + "h" + (m % 60 ? std::to_string(m % 60) + "m" : "");
  int64_t d = h / 24;
  return std::to_string(d) + "d" + (h % 24 ? std::to_string(h % 24) + "h" : "");
}

std::string FormatAge(UnixMillis then, UnixMillis now) {
  int64_t diff = now - then;
  if (diff > -1000 && diff < 1000) return "just now";
  if (diff < 0) return "in " + FormatDuration(-diff);
  return FormatDuration(diff) + " ago";
}

}  // namespace stoke::cli
