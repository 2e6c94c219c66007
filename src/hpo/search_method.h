#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hpo/events.h"
#include "hpo/rng.h"
#include "hpo/search_space.h"
#include "hpo/trial_history.h"

namespace stoke::hpo {

// What a search method may use besides its own state. The owner (Searcher) keeps the Rng and the
// space and snapshots the Rng next to the method's state.
struct SearchContext {
  Rng& rng;
  const SearchSpace& space;
};

// A deterministic state machine: events in, actions out. No threads, clock or I/O; the same
// events with the same rng state give the same actions and a byte-identical Snapshot().
// Implementations are not thread-safe; the owner serializes calls.
class SearchMethod {
 public:
  virtual ~SearchMethod() = default;

  virtual std::string_view Name() const = 0;
  // First actions (the initial trials). Call once.
  virtual Result<std::vector<Action>> Start(SearchContext& ctx) = 0;
  // Errors are kInvalidArgument for events about unknown trials and kFailedPrecondition before
  // Start(); the state is unchanged when an error is returned for a bad event.
  virtual Result<std::vector<Action>> OnEvent(SearchContext& ctx, const Event& event) = 0;
  // Fraction of the budget used, 0..1 (1 once Shutdown was emitted).
  virtual double Progress() const = 0;
  // The method's state (not the rng: the owner saves that). Restore() into a method built with
  // the same options resumes exactly.
  virtual Result<std::string> Snapshot() const = 0;
  virtual Status Restore(std::string_view snapshot) = 0;
  // Every trial created so far with its reports.
  virtual const TrialHistory& history() const = 0;
};

}  // namespace stoke::hpo
