#include "hpo/methods/successive_halving_search.h"

#include <algorithm>
#include <cmath>

#include "hpo/text_format.h"

namespace stoke::hpo {
namespace {

BudgetOptions WithMaxResource(BudgetOptions budget, int64_t max_resource) {
  budget.max_resource = max_resource;
  return budget;
}

// Number of halvings possible between min and max resource: floor(log_eta(max / min)).
int MaxHalvings(const SuccessiveHalvingOptions& o) {
  int s = 0;
  for (long double r = static_cast<long double>(o.min_resource) * o.eta; r <= o.max_resource; r *= o.eta) ++s;
  return s;
}

}  // namespace

Status SuccessiveHalvingSearch::Validate(const SuccessiveHalvingOptions& o) {
  if (o.min_resource <= 0) return Status::InvalidArgument("min_resource must be > 0", "min_resource");
  if (o.max_resource < o.min_resource) {
    return Status::InvalidArgument("max_resource must be >= min_resource", "max_resource");
  }
  if (o.eta < 2) return Status::InvalidArgument("eta must be >= 2", "eta");
  if (o.num_brackets < 0) return Status::InvalidArgument("num_brackets must be >= 0", "num_brackets");
  return Status::Ok();
}

SuccessiveHalvingSearch::SuccessiveHalvingSearch(std::unique_ptr<Sampler> sampler, BudgetOptions budget,
                                                 SuccessiveHalvingOptions options)
    : TrialDriver(std::move(sampler), WithMaxResource(budget, options.max_resource)), options_(options) {
  const int s_max = MaxHalvings(options_);
  const int all = s_max + 1;
  const int count = options_.num_brackets == 0 ? all : std::min(options_.num_brackets, all);
  for (int b = 0; b < count; ++b) {
    Bracket& bracket = brackets_.emplace_back();
    long double r = static_cast<long double>(options_.min_resource);
    for (int k = 0; k < b; ++k) r *= options_.eta;
    for (; r < options_.max_resource; r *= options_.eta) bracket.resources.push_back(static_cast<int64_t>(r));
    bracket.rungs.resize(bracket.resources.size());
    const int s = s_max - b;  // halvings in this bracket
    bracket.weight = std::ceil(count * std::pow(static_cast<double>(options_.eta), s) / (s + 1));
  }
}

int SuccessiveHalvingSearch::bracket_of(TrialId trial) const {
  if (trial < 0 || static_cast<size_t>(trial) >= bracket_of_.size()) return -1;
  return bracket_of_[static_cast<size_t>(trial)];
}

void SuccessiveHalvingSearch::OnTrialAdded(const TrialRecord& trial) {
  size_t best = 0;
  for (size_t b = 1; b < brackets_.size(); ++b) {
    // Compare assigned/weight without division: a.assigned * b.weight < b.assigned * a.weight.
    const Bracket& x = brackets_[b];
    const Bracket& y = brackets_[best];
    if (static_cast<double>(x.assigned) * y.weight < static_cast<double>(y.assigned) * x.weight) best = b;
  }
  ++brackets_[best].assigned;
  if (bracket_of_.size() <= static_cast<size_t>(trial.id)) bracket_of_.resize(static_cast<size_t>(trial.id) + 1, -1);
  bracket_of_[static_cast<size_t>(trial.id)] = static_cast<int>(best);
}

void SuccessiveHalvingSearch::OnReport(const TrialRecord& trial, const Report& report, std::vector<Action>& actions) {
  const int b = bracket_of(trial.id);
  if (b < 0) return;
  Bracket& bracket = brackets_[static_cast<size_t>(b)];
  const double loss = history().Loss(report.value);
  for (size_t k = 0; k < bracket.resources.size(); ++k) {
    if (report.resource < bracket.resources[k]) break;
    std::vector<Entry>& rung = bracket.rungs[k];
    const bool recorded = std::any_of(rung.begin(), rung.end(), [&](const Entry& e) { return e.trial == trial.id; });
    if (recorded) continue;  // decided earlier (e.g. before a retry)
    rung.push_back({trial.id, loss});
    const auto n = static_cast<int64_t>(rung.size());
    int64_t better = 0;
    for (const Entry& e : rung) better += e.loss < loss;
    const int64_t keep = std::max<int64_t>(1, n / options_.eta);
    if (better >= keep) {
      RequestStop(trial.id,
                  std::string(Name()) + " bracket " + std::to_string(b) + " rung " + std::to_string(k) +
                      " (resource " + std::to_string(bracket.resources[k]) + "): " + std::to_string(better) +
                      " of " + std::to_string(n) + " are better, top " + std::to_string(keep) + " continue",
                  actions);
      return;
    }
  }
}

void SuccessiveHalvingSearch::WriteState(SnapshotWriter& w) const {
  w.Label("brackets").U64(brackets_.size()).NewLine();
  for (const Bracket& bracket : brackets_) {
    w.Label("bracket").I64(bracket.assigned).U64(bracket.rungs.size()).NewLine();
    for (const auto& rung : bracket.rungs) {
      w.Label("rung").U64(rung.size());
      for (const Entry& e : rung) w.I64(e.trial).F64(e.loss);
      w.NewLine();
    }
  }
  w.Label("assignment").U64(bracket_of_.size());
  for (int b : bracket_of_) w.I64(b);
}

Status SuccessiveHalvingSearch::ReadState(SnapshotReader& r) {
  std::vector<Bracket> brackets = brackets_;
  STOKE_RETURN_IF_ERROR(r.Expect("brackets"));
  STOKE_ASSIGN_OR_RETURN(size_t nb, r.Count());
  if (nb != brackets.size()) return Status::InvalidArgument("snapshot has a different number of brackets");
  for (Bracket& bracket : brackets) {
    STOKE_RETURN_IF_ERROR(r.Expect("bracket"));
    STOKE_ASSIGN_OR_RETURN(bracket.assigned, r.I64());
    STOKE_ASSIGN_OR_RETURN(size_t nr, r.Count());
    if (nr != bracket.rungs.size()) return Status::InvalidArgument("snapshot has different rungs");
    for (auto& rung : bracket.rungs) {
      STOKE_RETURN_IF_ERROR(r.Expect("rung"));
      STOKE_ASSIGN_OR_RETURN(size_t ne, r.Count());
      rung.resize(ne);
      for (Entry& e : rung) {
        STOKE_ASSIGN_OR_RETURN(e.trial, r.I64());
        STOKE_ASSIGN_OR_RETURN(e.loss, r.F64());
      }
    }
  }
  STOKE_RETURN_IF_ERROR(r.Expect("assignment"));
  STOKE_ASSIGN_OR_RETURN(size_t na, r.Count());
  std::vector<int> assignment(na);
  for (int& b : assignment) {
    STOKE_ASSIGN_OR_RETURN(int64_t v, r.I64());
    if (v < -1 || v >= static_cast<int64_t>(brackets.size())) return Status::InvalidArgument("bad bracket index");
    b = static_cast<int>(v);
  }
  brackets_ = std::move(brackets);
  bracket_of_ = std::move(assignment);
  return Status::Ok();
}

}  // namespace stoke::hpo
