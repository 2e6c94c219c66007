#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sched/amount.h"

namespace stoke::sched {

// Picks the fewest `offers` whose sum covers `wanted` in every dimension where `wanted` is positive,
// and returns their indexes ascending. Among sets of that size, the first in lexicographic order of
// index wins, so callers list offers in preference order. The search is exhaustive up to
// `max_checks` candidate sets; beyond that it falls back to greedy-then-prune, which gives a set
// where no member can be dropped (minimal, not always minimum). nullopt when all offers together
// do not cover `wanted`.
std::optional<std::vector<size_t>> FewestCovering(const std::vector<Amount>& offers, const Amount& wanted,
                                                  int64_t max_checks = 200000);

}  // namespace stoke::sched
