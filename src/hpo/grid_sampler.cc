#include "hpo/grid_sampler.h"

namespace stoke::hpo {

Result<std::optional<int64_t>> GridSampler::Capacity(const SearchSpace& space) const {
  int64_t total = 1;
  for (const ParamSpec& spec : space.params) {
    STOKE_ASSIGN_OR_RETURN(int64_t n, GridCount(spec));
    if (n <= 0) return Err(Status::InvalidArgument("parameter '" + spec.name + "' has an empty grid", spec.name));
    if (total > kMaxGridSize / n) {
      return Err(Status::InvalidArgument("the grid has more than 2^40 points", "params"));
    }
    total *= n;
  }
  return std::optional<int64_t>(total);
}

ParamSample GridSampler::Point(const SearchSpace& space, int64_t index) {
  ParamSample out;
  for (size_t i = space.params.size(); i-- > 0;) {
    const ParamSpec& spec = space.params[i];
    const int64_t n = *GridCount(spec);
    out.emplace(spec.name, GridValue(spec, index % n));
    index /= n;
  }
  return out;
}

Result<ParamSample> GridSampler::Sample(const TrialHistory& history, const SearchSpace& space, Rng&) const {
  STOKE_ASSIGN_OR_RETURN(std::optional<int64_t> capacity, Capacity(space));
  const auto index = static_cast<int64_t>(history.size());
  if (index >= *capacity) return Err(Status::ResourceExhausted("every grid point has been tried"));
  return Point(space, index);
}

}  // namespace stoke::hpo
