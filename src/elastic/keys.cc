#include "elastic/keys.h"

#include <charconv>

namespace stoke::elastic::keys {

std::string JoinIds(const std::vector<int64_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  return out;
}

Result<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Err(Status::InvalidArgument("not an integer: '" + std::string(text) + "'"));
  }
  return value;
}

Result<std::vector<int64_t>> ParseIds(std::string_view text) {
  std::vector<int64_t> ids;
  if (text.empty()) return ids;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view part = text.substr(start, comma == std::string_view::npos ? text.size() - start : comma - start);
    STOKE_ASSIGN_OR_RETURN(int64_t id, ParseInt(part));
    ids.push_back(id);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return ids;
}

}  // namespace stoke::elastic::keys
