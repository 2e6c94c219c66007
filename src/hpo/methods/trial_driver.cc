#include "hpo/methods/trial_driver.h"

#include <algorithm>

namespace stoke::hpo {
namespace {

Status UnknownTrial(TrialId id) {
  return Status::InvalidArgument("event for unknown trial " + std::to_string(id), "trial");
}

}  // namespace

TrialDriver::TrialDriver(std::unique_ptr<Sampler> sampler, BudgetOptions budget)
    : sampler_(std::move(sampler)), budget_(budget), history_(budget.direction) {}

Result<std::vector<Action>> TrialDriver::Start(SearchContext& ctx) {
  if (started_) return Err(Status::FailedPrecondition("the search was already started"));
  started_ = true;
  std::vector<Action> actions;
  STOKE_RETURN_IF_ERROR(FillSlots(ctx, actions));
  MaybeShutdown(actions);
  return actions;
}

Result<std::vector<Action>> TrialDriver::OnEvent(SearchContext& ctx, const Event& event) {
  if (!started_) return Err(Status::FailedPrecondition("the search has not been started"));
  std::vector<Action> actions;
  if (const auto* created = std::get_if<TrialCreated>(&event)) {
    if (history_.Find(created->trial) == nullptr) return Err(UnknownTrial(created->trial));
    return actions;
  }
  if (const auto* report = std::get_if<ValidationReported>(&event)) {
    TrialRecord* trial = history_.Find(report->trial);
    if (trial == nullptr) return Err(UnknownTrial(report->trial));
    // Late reports (after the exit or after a stop was requested) change nothing.
    if (trial->state != TrialState::kRunning || trial->stop_requested) return actions;
    trial->reports.push_back({report->resource, report->value});
    OnReport(*trial, trial->reports.back(), actions);
    return actions;
  }
  STOKE_RETURN_IF_ERROR(HandleExit(ctx, std::get<TrialExited>(event), actions));
  return actions;
}

Status TrialDriver::HandleExit(SearchContext& ctx, const TrialExited& exit, std::vector<Action>& actions) {
  TrialRecord* trial = history_.Find(exit.trial);
  if (trial == nullptr) return UnknownTrial(exit.trial);
  if (trial->state != TrialState::kRunning) return Status::Ok();  // a duplicate exit
  switch (exit.reason) {
    case ExitReason::kCompleted:
      trial->state = TrialState::kCompleted;
      break;
    case ExitReason::kPruned:
      trial->state = TrialState::kPruned;
      break;
    case ExitReason::kFailed:
      if (trial->stop_requested) {  // it died while being stopped: that is the stop
        trial->state = TrialState::kPruned;
        break;
      }
      if (trial->attempt < budget_.max_retries) {
        ++trial->attempt;
        trial->reports.clear();
        actions.push_back(CreateTrial{trial->id, trial->attempt, trial->params, budget_.max_resource});
        return Status::Ok();  // the slot stays taken
      }
      trial->state = TrialState::kFailed;
      break;
  }
  trial->stop_requested = false;
  --running_;
  STOKE_RETURN_IF_ERROR(FillSlots(ctx, actions));
  MaybeShutdown(actions);
  return Status::Ok();
}

void TrialDriver::RequestStop(TrialId id, std::string reason, std::vector<Action>& actions) {
  TrialRecord* trial = history_.Find(id);
  if (trial == nullptr || trial->state != TrialState::kRunning || trial->stop_requested) return;
  trial->stop_requested = true;
  actions.push_back(StopTrial{id, std::move(reason)});
}

Status TrialDriver::FillSlots(SearchContext& ctx, std::vector<Action>& actions) {
  while (!exhausted_ && !shut_down_ && running_ < budget_.max_parallel &&
         static_cast<int64_t>(history_.size()) < budget_.max_trials) {
    Result<ParamSample> params = sampler_->Sample(history_, ctx.space, ctx.rng);
    if (!params) {
      if (params.error().code() == StatusCode::kResourceExhausted) {
        exhausted_ = true;
        break;
      }
      return params.error();
    }
    STOKE_ASSIGN_OR_RETURN(std::vector<double> coords, EncodeSample(ctx.space, *params));
    const auto id = static_cast<TrialId>(history_.size());
    TrialRecord& trial = history_.Add(id, *params, std::move(coords));
    ++running_;
    OnTrialAdded(trial);
    actions.push_back(CreateTrial{id, 0, std::move(*params), budget_.max_resource});
  }
  return Status::Ok();
}

void TrialDriver::MaybeShutdown(std::vector<Action>& actions) {
  if (shut_down_ || running_ > 0) return;
  if (!exhausted_ && static_cast<int64_t>(history_.size()) < budget_.max_trials) return;
  shut_down_ = true;
  bool any_result = false;
  for (const TrialRecord& t : history_.trials()) any_result |= t.state != TrialState::kFailed;
  std::string reason = exhausted_ ? "search space exhausted" : "max_trials reached";
  if (!any_result) reason = "every trial failed";
  actions.push_back(Shutdown{!any_result, std::move(reason)});
}

double TrialDriver::Progress() const {
  if (shut_down_) return 1.0;
  const int64_t total = exhausted_ ? static_cast<int64_t>(history_.size()) : budget_.max_trials;
  if (total <= 0) return 1.0;
  int64_t done = 0;
  for (const TrialRecord& t : history_.trials()) done += t.state != TrialState::kRunning;
  return std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
}

Result<std::string> TrialDriver::Snapshot() const {
  SnapshotWriter w;
  w.Label("stoke-hpo-method").Str(Name()).Label("v1").NewLine();
  w.Label("driver").I64(started_).I64(exhausted_).I64(shut_down_).NewLine();
  history_.Write(w);
  w.Label("state").NewLine();
  WriteState(w);
  w.NewLine().Label("end").NewLine();
  return w.Take();
}

Status TrialDriver::Restore(std::string_view snapshot) {
  SnapshotReader r(snapshot);
  STOKE_RETURN_IF_ERROR(r.Expect("stoke-hpo-method"));
  STOKE_ASSIGN_OR_RETURN(std::string name, r.Str());
  if (name != Name()) {
    return Status::InvalidArgument("snapshot is of method '" + name + "', not '" + std::string(Name()) + "'");
  }
  STOKE_RETURN_IF_ERROR(r.Expect("v1"));
  STOKE_RETURN_IF_ERROR(r.Expect("driver"));
  STOKE_ASSIGN_OR_RETURN(int64_t started, r.I64());
  STOKE_ASSIGN_OR_RETURN(int64_t exhausted, r.I64());
  STOKE_ASSIGN_OR_RETURN(int64_t shut_down, r.I64());
  TrialHistory history;
  STOKE_RETURN_IF_ERROR(history.Read(r));
  if (history.direction() != budget_.direction) {
    return Status::InvalidArgument("snapshot direction differs from the configured one");
  }
  STOKE_RETURN_IF_ERROR(r.Expect("state"));
  STOKE_RETURN_IF_ERROR(ReadState(r));
  STOKE_RETURN_IF_ERROR(r.Expect("end"));
  if (!r.AtEnd()) return Status::InvalidArgument("malformed snapshot: trailing data");
  started_ = started != 0;
  exhausted_ = exhausted != 0;
  shut_down_ = shut_down != 0;
  history_ = std::move(history);
  running_ = 0;
  for (const TrialRecord& t : history_.trials()) running_ += t.state == TrialState::kRunning;
  return Status::Ok();
}

}  // namespace stoke::hpo
