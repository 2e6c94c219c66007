#pragma once

#include "hpo/methods/trial_driver.h"

namespace stoke::hpo {

// Any sampler with a budget: every trial runs to completion (max_resource, or until it ends on
// its own); its objective is its last reported value. Not thread-safe.
class SingleFidelitySearch final : public TrialDriver {
 public:
  using TrialDriver::TrialDriver;
  std::string_view Name() const override { return "single-fidelity"; }
};

}  // namespace stoke::hpo
