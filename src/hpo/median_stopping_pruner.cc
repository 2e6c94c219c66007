#include "hpo/median_stopping_pruner.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <vector>

#include "hpo/text_format.h"

namespace stoke::hpo {
namespace {

// Best loss among reports at resource <= s, or nullopt when there is none.
std::optional<double> BestUpTo(const TrialHistory& history, const TrialRecord& t, int64_t s) {
  std::optional<double> best;
  for (const Report& r : t.reports) {
    if (r.resource > s) continue;
    const double loss = history.Loss(r.value);
    if (!best || loss < *best) best = loss;
  }
  return best;
}

}  // namespace

bool MedianStoppingPruner::ShouldPrune(const TrialHistory& history, TrialId id, std::string* why) const {
  const TrialRecord* trial = history.Find(id);
  if (trial == nullptr || trial->reports.empty()) return false;
  const int64_t s = trial->reports.back().resource;
  if (s < options_.n_warmup_resource) return false;
  int completed = 0;
  for (const TrialRecord& t : history.trials()) completed += t.state == TrialState::kCompleted;
  if (completed < options_.n_startup_trials) return false;

  std::vector<double> others;
  for (const TrialRecord& t : history.trials()) {
    if (t.id == id || t.state == TrialState::kFailed) continue;
    int64_t furthest = std::numeric_limits<int64_t>::min();
    for (const Report& r : t.reports) furthest = std::max(furthest, r.resource);
    if (furthest < s) continue;
    if (auto best = BestUpTo(history, t, s)) others.push_back(*best);
  }
  if (others.empty() || static_cast<int>(others.size()) < options_.min_trials_at_step) return false;
  std::sort(others.begin(), others.end());
  const size_t n = others.size();
  const double median = n % 2 == 1 ? others[n / 2] : 0.5 * (others[n / 2 - 1] + others[n / 2]);
  const double mine = *BestUpTo(history, *trial, s);
  if (!(mine > median)) return false;
  if (why != nullptr) {
    *why = "median stopping at resource " + std::to_string(s) + ": best loss " + Num(mine) + " > median " +
           Num(median) + " of " + std::to_string(n) + " trials";
  }
  return true;
}

}  // namespace stoke::hpo
