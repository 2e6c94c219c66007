#pragma once

#include "hpo/sampler.h"

namespace stoke::hpo {

// Enumerates the Cartesian product of every parameter's grid values in a fixed order: the last
// parameter of the space varies fastest. Trial i of the history gets grid point i (retries reuse
// their trial's params, so they do not advance the grid). Floats need grid_points or step.
// Stateless; thread-safe.
class GridSampler final : public Sampler {
 public:
  // Grids larger than this are refused (they would never finish).
  static constexpr int64_t kMaxGridSize = int64_t{1} << 40;

  std::string_view Name() const override { return "grid"; }
  Result<ParamSample> Sample(const TrialHistory& history, const SearchSpace& space, Rng& rng) const override;
  Result<std::optional<int64_t>> Capacity(const SearchSpace& space) const override;

  // The grid point with the given index. REQUIRES: 0 <= index < *Capacity(space).
  static ParamSample Point(const SearchSpace& space, int64_t index);
};

}  // namespace stoke::hpo
