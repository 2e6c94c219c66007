#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace stoke {

// Parses a memory size: plain bytes ("1048576") or a number with a binary suffix K, M, G, T
// (powers of 1024; "KB", "KiB", "k" are accepted too), e.g. "4G", "512M", "1.5G".
// Fractional values are rounded down to whole bytes. Rejects negatives, overflow and junk.
Result<int64_t> ParseByteSize(std::string_view text);

// Formats bytes for humans with the largest binary unit that gives a value >= 1: "4G", "1.5G", "512M", "100B".
std::string FormatByteSize(int64_t bytes);

}  // namespace stoke
