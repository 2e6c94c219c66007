#pragma once

#include <memory>
#include <set>

#include "hpo/pruner.h"
#include "hpo/search_method.h"

namespace stoke::hpo {

// Adds early stopping by a Pruner (e.g. the median stopping rule) to any search method: events
// go to the inner method first; then, after each report of a trial that is still running and not
// being stopped, the pruner is asked and a StopTrial is added if it says so. A trial stopped this
// way that then exits as failed is passed on as pruned, so the inner method does not retry it.
// Not thread-safe.
class PrunedSearch final : public SearchMethod {
 public:
  PrunedSearch(std::unique_ptr<SearchMethod> inner, std::unique_ptr<Pruner> pruner);

  std::string_view Name() const override { return name_; }
  Result<std::vector<Action>> Start(SearchContext& ctx) override { return inner_->Start(ctx); }
  Result<std::vector<Action>> OnEvent(SearchContext& ctx, const Event& event) override;
  double Progress() const override { return inner_->Progress(); }
  Result<std::string> Snapshot() const override;
  Status Restore(std::string_view snapshot) override;
  const TrialHistory& history() const override { return inner_->history(); }

 private:
  std::unique_ptr<SearchMethod> inner_;
  std::unique_ptr<Pruner> pruner_;
  std::string name_;
  std::set<TrialId> stopped_;  // trials this wrapper asked to stop (at their current attempt)
};

}  // namespace stoke::hpo
