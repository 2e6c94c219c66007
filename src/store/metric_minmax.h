#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "store/sqlite_conn.h"

namespace stoke::store {

// How many points a group of metric points has, and its lowest and highest value with
// their steps (the earliest step on ties).
struct MinMax {
  int64_t count = 0;
  int64_t min_step = 0;
  double min_value = 0;
  int64_t max_step = 0;
  double max_value = 0;
};

// Registers the SQL aggregate `stoke_minmax(step, value)` on `conn`: one pass over the
// rows gives the count and both extremes with their steps, as a MinMax blob (NULL for no rows).
// Deterministic; used by the metric downsampling query.
Status RegisterMinMaxAggregate(SqliteConn& conn);

// Decodes the aggregate's blob; nullopt for NULL or a wrong size.
std::optional<MinMax> DecodeMinMax(const std::string& blob);

}  // namespace stoke::store
