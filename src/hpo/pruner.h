#pragma once

#include <string>
#include <string_view>

#include "hpo/trial_history.h"

namespace stoke::hpo {

// Decides from the history alone whether a running trial should stop now. A const query that
// never writes anywhere (unlike Optuna's pruners, which write to storage). Immutable; thread-safe.
class Pruner {
 public:
  virtual ~Pruner() = default;
  virtual std::string_view Name() const = 0;
  // Called right after `trial` reported. `why` gets a human-readable reason when it returns true.
  virtual bool ShouldPrune(const TrialHistory& history, TrialId trial, std::string* why) const = 0;
};

}  // namespace stoke::hpo
