#pragma once

#include <vector>

#include "hpo/methods/trial_driver.h"

namespace stoke::hpo {

struct SuccessiveHalvingOptions {
  int64_t min_resource = 1;   // first rung
  int64_t max_resource = 81;  // a trial that gets here has completed
  int eta = 3;                // keep the top 1/eta of each rung
  // 1: ASHA. 0: Hyperband with every bracket (floor(log_eta(max/min)) + 1 of them). k: the k most
  // aggressive Hyperband brackets.
  int num_brackets = 1;
};

// Asynchronous successive halving (ASHA) and, with several brackets, asynchronous Hyperband.
//
// Bracket b has rungs at min_resource * eta^(b + k) for k = 0, 1, ... below max_resource.
// Every trial is created with max_resource as its budget and trains on; when it first reports at
// or beyond a rung's resource, its value is recorded in that rung and compared with the values
// recorded there so far: it continues if fewer than max(1, floor(n / eta)) recorded values are
// strictly better (n counts it), otherwise it gets a StopTrial. No rung ever waits to fill up.
//
// Hyperband brackets run interleaved, not in sequence: each new trial joins the bracket whose
// share of trials is furthest below its Hyperband weight ceil(B * eta^s / (s + 1)) (s = number of
// halvings in the bracket, B = number of brackets; lowest bracket index on ties), so all
// brackets progress together and parallel slots never idle at bracket boundaries.
// Not thread-safe.
class SuccessiveHalvingSearch final : public TrialDriver {
 public:
  // REQUIRES: Validate(options) is OK. budget.max_resource is overridden by options.max_resource.
  SuccessiveHalvingSearch(std::unique_ptr<Sampler> sampler, BudgetOptions budget, SuccessiveHalvingOptions options);

  static Status Validate(const SuccessiveHalvingOptions& options);

  std::string_view Name() const override { return brackets_.size() == 1 ? "asha" : "hyperband"; }

  size_t num_brackets() const { return brackets_.size(); }
  // Rung resources of bracket b.
  const std::vector<int64_t>& rung_resources(size_t b) const { return brackets_[b].resources; }
  int bracket_of(TrialId trial) const;

 protected:
  void OnTrialAdded(const TrialRecord& trial) override;
  void OnReport(const TrialRecord& trial, const Report& report, std::vector<Action>& actions) override;
  void WriteState(SnapshotWriter& w) const override;
  Status ReadState(SnapshotReader& r) override;

 private:
  struct Entry {
    TrialId trial = 0;
    double loss = 0;
  };
  struct Bracket {
    std::vector<int64_t> resources;         // rung resources (the decision points)
    std::vector<std::vector<Entry>> rungs;  // values recorded at each rung
    double weight = 1;                      // Hyperband share
    int64_t assigned = 0;
  };

  SuccessiveHalvingOptions options_;
  std::vector<Bracket> brackets_;
  std::vector<int> bracket_of_;  // by trial id
};

}  // namespace stoke::hpo
