#include "archive/entry_path.h"

#include <cstdio>
#include <vector>

namespace stoke::archive {
namespace {

// Splits on '/', keeping empty parts (callers skip them).
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

Status BadName(std::string_view raw, std::string_view why) {
  return Status::InvalidArgument("archive entry \"" + Printable(raw) + "\": " + std::string(why), "code");
}

}  // namespace

bool HasControlChar(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Result<std::string> NormalizeEntryPath(std::string_view raw) {
  if (raw.empty()) return Err(BadName(raw, "empty name"));
  if (HasControlChar(raw)) return Err(BadName(raw, "name holds a control character"));
  if (raw.front() == '/') return Err(BadName(raw, "absolute path"));
  std::string clean;
  for (std::string_view part : SplitPath(raw)) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return Err(BadName(raw, "path has a \"..\" component"));
    if (!clean.empty()) clean += '/';
    clean += part;
  }
  return clean;
}

bool SymlinkTargetStaysInside(std::string_view link_path, std::string_view target) {
  if (target.empty() || target.front() == '/') return false;
  // The link resolves relative to the directory that holds it.
  int depth = 0;
  for (std::string_view part : SplitPath(link_path)) {
    if (!part.empty() && part != ".") ++depth;
  }
  --depth;  // the link's own name
  if (depth < 0) return false;
  for (std::string_view part : SplitPath(target)) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (--depth < 0) return false;
    } else {
      ++depth;
    }
  }
  return true;
}

}  // namespace stoke::archive
