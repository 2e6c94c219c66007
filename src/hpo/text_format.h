#pragma once

#include <charconv>
#include <string>

namespace stoke::hpo {

// Shortest decimal that reads back to the same double (std::to_chars): identical output on every
// conforming standard library, which golden files rely on. (g++ 12 has no std::format.)
inline std::string Num(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, ptr);
}

}  // namespace stoke::hpo
