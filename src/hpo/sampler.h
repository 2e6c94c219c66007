#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "hpo/rng.h"
#include "hpo/search_space.h"
#include "hpo/trial_history.h"

namespace stoke::hpo {

// Proposes the parameters of the next trial. A const query: everything it learns from comes in
// through the history (which includes the trials still running) and all randomness comes from
// `rng`, so the owner's snapshot (history + rng) is enough to replay it.
// Implementations are immutable after construction and safe to share between threads.
class Sampler {
 public:
  virtual ~Sampler() = default;

  virtual std::string_view Name() const = 0;

  // REQUIRES: Validate(space) is OK and every trial in `history` was sampled from `space`.
  // Returns kResourceExhausted when the sampler has nothing left to propose (grid done).
  virtual Result<ParamSample> Sample(const TrialHistory& history, const SearchSpace& space, Rng& rng) const = 0;

  // How many distinct samples exist (the grid size); nullopt when unbounded.
  virtual Result<std::optional<int64_t>> Capacity(const SearchSpace& space) const { return std::nullopt; }
};

}  // namespace stoke::hpo
