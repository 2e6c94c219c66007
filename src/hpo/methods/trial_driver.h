#pragma once

#include <memory>
#include <string>

#include "hpo/sampler.h"
#include "hpo/search_method.h"
#include "hpo/snapshot_codec.h"

namespace stoke::hpo {

struct BudgetOptions {
  int max_trials = 16;        // trials created in all (retries not counted)
  int max_parallel = 1;       // trials in flight at once
  int max_retries = 0;        // re-runs of a failed trial with the same params before it counts as failed
  int64_t max_resource = 0;   // CreateTrial::max_resource for every trial (0: the trial decides)
  Direction direction = Direction::kMinimize;
};

// The trial bookkeeping every method shares: keeps up to max_parallel trials in flight until
// max_trials were created or the sampler is exhausted, retries failed trials, records reports in
// the history and shuts down when the last trial exits. Subclasses add early stopping through
// the hooks. Not thread-safe.
class TrialDriver : public SearchMethod {
 public:
  TrialDriver(std::unique_ptr<Sampler> sampler, BudgetOptions budget);

  Result<std::vector<Action>> Start(SearchContext& ctx) final;
  Result<std::vector<Action>> OnEvent(SearchContext& ctx, const Event& event) final;
  double Progress() const override;
  Result<std::string> Snapshot() const final;
  Status Restore(std::string_view snapshot) final;
  const TrialHistory& history() const final { return history_; }

  const BudgetOptions& budget() const { return budget_; }
  const Sampler& sampler() const { return *sampler_; }

 protected:
  // A new trial was just added to the history (before its CreateTrial is emitted).
  virtual void OnTrialAdded(const TrialRecord& trial) {}
  // `trial` (running, no stop requested) just got `report`; push a StopTrial via RequestStop.
  virtual void OnReport(const TrialRecord& trial, const Report& report, std::vector<Action>& actions) {}
  // Subclass state for snapshots.
  virtual void WriteState(SnapshotWriter& w) const {}
  virtual Status ReadState(SnapshotReader& r) { return Status::Ok(); }

  void RequestStop(TrialId trial, std::string reason, std::vector<Action>& actions);

 private:
  Status FillSlots(SearchContext& ctx, std::vector<Action>& actions);
  void MaybeShutdown(std::vector<Action>& actions);
  Status HandleExit(SearchContext& ctx, const TrialExited& exit, std::vector<Action>& actions);

  std::unique_ptr<Sampler> sampler_;
  BudgetOptions budget_;
  TrialHistory history_;
  bool started_ = false;
  bool exhausted_ = false;  // the sampler has nothing more to propose
  bool shut_down_ = false;
  int running_ = 0;         // derived from history_; not serialized
};

}  // namespace stoke::hpo
