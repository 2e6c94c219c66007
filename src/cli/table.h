#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace stoke::cli {

// Renders rows under a header as aligned, space-separated columns (two spaces between columns,
// no trailing spaces, one "\n" per line). Columns are as wide as their widest cell, counted in
// UTF-8 code points. Rows shorter than the header are padded with empty cells.
std::string RenderTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// Parses RFC 3339 UTC/offset timestamps as the server writes them: 2026-11-26T14:02:10.123Z,
// 2026-11-26T14:02:10Z, 2026-11-26T16:02:10+02:00.
Result<UnixMillis> ParseRfc3339(std::string_view text);

// A duration for humans, coarse on purpose: "45s", "3m", "2h5m", "3d4h".
std::string FormatDuration(int64_t millis);

// "3m ago" (or "just now" under a second; "in 5s" for a future time from a skewed clock).
std::string FormatAge(UnixMillis then, UnixMillis now);

}  // namespace stoke::cli
