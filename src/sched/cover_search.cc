#include "sched/cover_search.h"

namespace stoke::sched {
namespace {

bool Covers(const std::vector<Amount>& offers, const std::vector<size_t>& chosen, const Amount& wanted) {
  Amount sum;
  for (size_t i : chosen) sum += offers[i];
  return Shortfall(wanted, sum).IsZero();
}

std::vector<size_t> GreedyThenPrune(const std::vector<Amount>& offers, const Amount& wanted) {
  std::vector<size_t> chosen;
  Amount remaining = wanted;
  for (size_t i = 0; i < offers.size() && !remaining.IsZero(); ++i) {
    if (!offers[i].Helps(remaining)) continue;
    chosen.push_back(i);
    remaining = Shortfall(remaining, offers[i]);
  }
  // Drop the least preferred picks first when the others still cover.
  for (size_t k = chosen.size(); k-- > 0;) {
    std::vector<size_t> without = chosen;
    without.erase(without.begin() + static_cast<std::ptrdiff_t>(k));
    if (Covers(offers, without, wanted)) chosen = std::move(without);
  }
  return chosen;
}

}  // namespace

std::optional<std::vector<size_t>> FewestCovering(const std::vector<Amount>& offers, const Amount& wanted,
                                                  int64_t max_checks) {
  if (Shortfall(wanted, Amount{}).IsZero()) return std::vector<size_t>{};
  std::vector<size_t> all(offers.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  if (!Covers(offers, all, wanted)) return std::nullopt;

  const size_t n = offers.size();
  int64_t checks = 0;
  for (size_t k = 1; k <= n; ++k) {
    // Combinations of size k in lexicographic order.
    std::vector<size_t> idx(k);
    for (size_t i = 0; i < k; ++i) idx[i] = i;
    while (true) {
      if (++checks > max_checks) return GreedyThenPrune(offers, wanted);
      if (Covers(offers, idx, wanted)) return idx;
      size_t i = k;
      while (i > 0 && idx[i - 1] == n - k + (i - 1)) --i;
      if (i == 0) break;
      ++idx[i - 1];
      for (size_t j = i; j < k; ++j) idx[j] = idx[j - 1] + 1;
    }
  }
  return GreedyThenPrune(offers, wanted);  // unreachable: the full set covers
}

}  // namespace stoke::sched
