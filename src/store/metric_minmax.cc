#include "store/metric_minmax.h"

#include <sqlite3.h>

#include <cstring>

namespace stoke::store {
namespace {

struct MinMaxState {
  bool any;
  MinMax mm;
};

void MinMaxStep(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
  auto* st = static_cast<MinMaxState*>(sqlite3_aggregate_context(ctx, sizeof(MinMaxState)));
  if (st == nullptr) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  int64_t step = sqlite3_value_int64(argv[0]);
  double value = sqlite3_value_double(argv[1]);
  if (!st->any) {
    st->any = true;
    st->mm = MinMax{1, step, value, step, value};
    return;
  }
  ++st->mm.count;
  // Strict comparisons keep the first point on ties; rows arrive in step order.
  if (value < st->mm.min_value) {
    st->mm.min_value = value;
    st->mm.min_step = step;
  }
  if (value > st->mm.max_value) {
    st->mm.max_value = value;
    st->mm.max_step = step;
  }
}

void MinMaxFinal(sqlite3_context* ctx) {
  auto* st = static_cast<MinMaxState*>(sqlite3_aggregate_context(ctx, 0));
  if (st == nullptr || !st->any) {
    sqlite3_result_null(ctx);
    return;
  }
  sqlite3_result_blob(ctx, &st->mm, sizeof(MinMax), SQLITE_TRANSIENT);
}

}  // namespace

Status RegisterMinMaxAggregate(SqliteConn& conn) {
  int rc = sqlite3_create_function_v2(conn.raw(), "stoke_minmax", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                      nullptr, &MinMaxStep, &MinMaxFinal, nullptr);
  return SqliteStatus(conn.raw(), rc, "register stoke_minmax");
}

std::optional<MinMax> DecodeMinMax(const std::string& blob) {
  if (blob.size() != sizeof(MinMax)) return std::nullopt;
  MinMax mm;
  std::memcpy(&mm, blob.data(), sizeof(MinMax));
  return mm;
}

}  // namespace stoke::store
