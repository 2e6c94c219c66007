#pragma once

#include "hpo/sampler.h"

namespace stoke::hpo {

// Independent uniform draws per dimension (log-uniform on log scale; ints and steps rounded so
// every legal value has equal mass). Stateless; thread-safe.
class RandomSampler final : public Sampler {
 public:
  std::string_view Name() const override { return "random"; }
  Result<ParamSample> Sample(const TrialHistory& history, const SearchSpace& space, Rng& rng) const override;

  // One dimension, as an internal coordinate (see search_space.h).
  static double SampleCoordinate(const ParamSpec& spec, Rng& rng);
};

}  // namespace stoke::hpo
