#pragma once

#include <vector>

#include "common/clock.h"
#include "sched/amount.h"

namespace stoke::sched {

// Resources that come back to the pool at a known time.
struct Release {
  UnixMillis at = 0;
  Amount amount;
};

// The EASY-backfill reservation for the blocked head of the queue.
struct Shadow {
  bool known = false;  // false: the releases with known times never add up to what the head needs
  UnixMillis at = 0;   // when the head can start at the latest (the "shadow time"); valid when known
  // What jobs that would still run at `at` may take without delaying the head. When the shadow time
  // is unknown this is only what is free now beyond the head's own need, so the head keeps first
  // claim on everything free today and gets whatever is released later.
  Amount extra;
};

// Walks `releases` in time order from `free_now` until `need` is covered. Releases before `now`
// count as happening at `now` (an overdue job is about to be stopped).
Shadow ComputeShadow(const Amount& free_now, const Amount& need, std::vector<Release> releases, UnixMillis now);

}  // namespace stoke::sched
