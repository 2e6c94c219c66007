#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "hpo/events.h"
#include "hpo/gp/gp_sampler.h"
#include "hpo/median_stopping_pruner.h"
#include "hpo/methods/successive_halving_search.h"
#include "hpo/methods/trial_driver.h"
#include "hpo/rng.h"
#include "hpo/search_method.h"
#include "hpo/search_space.h"
#include "hpo/tpe/tpe_sampler.h"

namespace stoke::hpo {

enum class SamplerKind { kGrid, kRandom, kTpe, kGp };
enum class MethodKind {
  kSingleFidelity,  // every trial runs its full budget
  kAsha,            // asynchronous successive halving
  kHyperband,       // asynchronous Hyperband (interleaved ASHA brackets)
};

// Everything an experiment's search needs. Plain data: the api layer fills it from the request
// (names, ranges, defaults and error fields are documented in src/hpo/README.md).
struct ExperimentConfig {
  SearchSpace space;
  uint64_t seed = 0;
  SamplerKind sampler = SamplerKind::kTpe;
  TpeOptions tpe;
  GpOptions gp;
  MethodKind method = MethodKind::kSingleFidelity;
  BudgetOptions budget;                // max_trials, max_parallel, max_retries, max_resource, direction
  SuccessiveHalvingOptions halving;    // kAsha / kHyperband (num_brackets is set from the method)
  std::optional<MedianStoppingOptions> median_stopping;  // early stopping on top of any method
};

// Checks the space and every option; errors name the field ("budget.max_trials", "lr.min", ...).
Status Validate(const ExperimentConfig& config);

// The search of one experiment: a SearchMethod built from the config, with its Rng and space.
// This is the entry point for the service layer: Start() once, then feed every trial event to
// OnEvent() and carry out the returned actions in order; persist Snapshot() after each call and
// Restore() after a restart. Deterministic: same config, same events -> same actions.
// Not thread-safe: the owner serializes calls.
class Searcher {
 public:
  static Result<std::unique_ptr<Searcher>> Create(ExperimentConfig config);
  // A searcher in the state of `snapshot`, which must come from a searcher with the same config.
  static Result<std::unique_ptr<Searcher>> Restore(ExperimentConfig config, std::string_view snapshot);

  Result<std::vector<Action>> Start();
  Result<std::vector<Action>> OnEvent(const Event& event);
  double Progress() const { return method_->Progress(); }
  // The method state and the rng state, as one string (text, a few hundred bytes per trial).
  Result<std::string> Snapshot() const;

  const TrialHistory& history() const { return method_->history(); }
  std::optional<TrialId> BestTrial() const { return method_->history().BestTrial(); }
  std::string_view method_name() const { return method_->Name(); }
  const ExperimentConfig& config() const { return config_; }

 private:
  Searcher(ExperimentConfig config, std::unique_ptr<SearchMethod> method);

  ExperimentConfig config_;
  std::unique_ptr<SearchMethod> method_;
  Rng rng_;
};

// Builders, for callers that compose methods themselves.
Result<std::unique_ptr<Sampler>> MakeSampler(const ExperimentConfig& config);
Result<std::unique_ptr<SearchMethod>> MakeSearchMethod(const ExperimentConfig& config);

}  // namespace stoke::hpo
