#pragma once

#include <cstdint>
#include <string>

namespace stoke {

// The last `n` lines of `text` (a final newline does not start an empty line); "" when n <= 0.
std::string TailLines(const std::string& text, int64_t n);

}  // namespace stoke
