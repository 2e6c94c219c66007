#include "hpo/methods/pruned_search.h"

#include "hpo/snapshot_codec.h"

namespace stoke::hpo {

PrunedSearch::PrunedSearch(std::unique_ptr<SearchMethod> inner, std::unique_ptr<Pruner> pruner)
    : inner_(std::move(inner)), pruner_(std::move(pruner)) {
  name_ = std::string(inner_->Name()) + "+" + std::string(pruner_->Name());
}

Result<std::vector<Action>> PrunedSearch::OnEvent(SearchContext& ctx, const Event& event) {
  if (const auto* exit = std::get_if<TrialExited>(&event)) {
    if (stopped_.count(exit->trial) != 0) {
      stopped_.erase(exit->trial);
      if (exit->reason == ExitReason::kFailed) return inner_->OnEvent(ctx, TrialExited{exit->trial, ExitReason::kPruned});
    }
    return inner_->OnEvent(ctx, event);
  }
  STOKE_ASSIGN_OR_RETURN(std::vector<Action> actions, inner_->OnEvent(ctx, event));
  // The trial is already being stopped by this wrapper: drop the inner method's second stop.
  std::erase_if(actions, [&](const Action& a) {
    const auto* stop = std::get_if<StopTrial>(&a);
    return stop != nullptr && stopped_.count(stop->trial) != 0;
  });
  const auto* report = std::get_if<ValidationReported>(&event);
  if (report == nullptr || stopped_.count(report->trial) != 0) return actions;
  const TrialRecord* trial = inner_->history().Find(report->trial);
  if (trial == nullptr || trial->state != TrialState::kRunning || trial->stop_requested) return actions;
  std::string why;
  if (pruner_->ShouldPrune(inner_->history(), report->trial, &why)) {
    stopped_.insert(report->trial);
    actions.push_back(StopTrial{report->trial, std::move(why)});
  }
  return actions;
}

Result<std::string> PrunedSearch::Snapshot() const {
  STOKE_ASSIGN_OR_RETURN(std::string inner, inner_->Snapshot());
  SnapshotWriter w;
  w.Label("stoke-hpo-pruned").Str(name_).U64(stopped_.size());
  for (TrialId id : stopped_) w.I64(id);
  w.Str(inner).NewLine();
  return w.Take();
}

Status PrunedSearch::Restore(std::string_view snapshot) {
  SnapshotReader r(snapshot);
  STOKE_RETURN_IF_ERROR(r.Expect("stoke-hpo-pruned"));
  STOKE_ASSIGN_OR_RETURN(std::string name, r.Str());
  if (name != name_) return Status::InvalidArgument("snapshot is of method '" + name + "', not '" + name_ + "'");
  STOKE_ASSIGN_OR_RETURN(size_t n, r.Count());
  std::set<TrialId> stopped;
  for (size_t i = 0; i < n; ++i) {
    STOKE_ASSIGN_OR_RETURN(TrialId id, r.I64());
    stopped.insert(id);
  }
  STOKE_ASSIGN_OR_RETURN(std::string inner, r.Str());
  if (!r.AtEnd()) return Status::InvalidArgument("malformed snapshot: trailing data");
  STOKE_RETURN_IF_ERROR(inner_->Restore(inner));
  stopped_ = std::move(stopped);
  return Status::Ok();
}

}  // namespace stoke::hpo
