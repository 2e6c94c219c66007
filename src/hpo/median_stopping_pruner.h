#pragma once

#include <cstdint>

#include "hpo/pruner.h"

namespace stoke::hpo {

struct MedianStoppingOptions {
  int n_startup_trials = 5;       // no stopping until this many trials completed
  int64_t n_warmup_resource = 0;  // no stopping of a trial whose last report is below this resource
  int min_trials_at_step = 1;     // at least this many other trials must have reached the step
};

// The median stopping rule: a trial that last reported at resource s stops when its best loss so
// far is strictly worse than the median, over the other trials (running, completed or pruned, not
// failed) that reached s, of their best loss up to s. Not the average curve: best-so-far values,
// so a noisy dip does not save a bad trial. Cost O(total reports) per call. Immutable; thread-safe.
class MedianStoppingPruner final : public Pruner {
 public:
  explicit MedianStoppingPruner(MedianStoppingOptions options = {}) : options_(options) {}
  std::string_view Name() const override { return "median"; }
  bool ShouldPrune(const TrialHistory& history, TrialId trial, std::string* why) const override;

 private:
  MedianStoppingOptions options_;
};

}  // namespace stoke::hpo
