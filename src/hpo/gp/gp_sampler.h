#pragma once

#include <vector>

#include "hpo/random_sampler.h"
#include "hpo/sampler.h"

namespace stoke::hpo {

struct GpOptions {
  int n_startup_trials = 10;    // random sampling until this many trials completed
  int n_candidates = 512;       // random points scored by expected improvement
  int n_local_starts = 4;       // best candidates refined by local search
  int n_local_steps = 24;       // Gaussian moves per refinement, step size shrinking
  int max_observations = 256;   // GP fit on the best half and the newest of at most this many trials
  double xi = 0.0;              // EI exploration margin, in standardized units
};

// "Bayesian" search: a Gaussian process with a Matern-5/2 kernel over the unit-cube-normalized
// space (numeric dimensions scaled to [0, 1] in their internal coordinates, log for log scale;
// categoricals one-hot). Targets are standardized losses; the length scale and noise level are
// chosen on a small grid by maximizing the log marginal likelihood. The next point maximizes
// expected improvement over random candidates plus local refinement of the best ones. Running
// trials are included with the worst observed loss (constant liar) so parallel suggestions
// differ. Immutable; thread-safe.
class GpSampler final : public Sampler {
 public:
  explicit GpSampler(GpOptions options = {}) : options_(options) {}

  static Status Validate(const GpOptions& options);

  std::string_view Name() const override { return "gp"; }
  Result<ParamSample> Sample(const TrialHistory& history, const SearchSpace& space, Rng& rng) const override;

 private:
  GpOptions options_;
  RandomSampler random_;
};

}  // namespace stoke::hpo
