#include "hpo/random_sampler.h"

namespace stoke::hpo {

double RandomSampler::SampleCoordinate(const ParamSpec& spec, Rng& rng) {
  switch (spec.kind) {
    case ParamKind::kFloat:
    case ParamKind::kInt: {
      const CoordinateBounds b = InternalBounds(spec);
      return rng.Uniform(b.low, b.high);
    }
    case ParamKind::kCategorical:
      return static_cast<double>(rng.UniformInt(spec.choices.size()));
    case ParamKind::kFixed:
      return 0;  // draws nothing
  }
  return 0;
}

Result<ParamSample> RandomSampler::Sample(const TrialHistory&, const SearchSpace& space, Rng& rng) const {
  ParamSample out;
  for (const ParamSpec& spec : space.params) out.emplace(spec.name, Decode(spec, SampleCoordinate(spec, rng)));
  return out;
}

}  // namespace stoke::hpo
