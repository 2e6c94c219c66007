#pragma once

// A scripted "cluster" for tests: runs the trials a Searcher asks for in synchronous ticks and
// feeds the resulting events back, recording a transcript ("> event" / "< action" lines).
// Deterministic: the same searcher config gives the same transcript.

#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hpo/searcher.h"

namespace stoke::hpo::testing {

// Objective value of `params` after training to `resource`.
using CurveFn = std::function<double(const ParamSample& params, int64_t resource)>;

struct WorldOptions {
  int64_t step = 1;              // resource units per tick (a report per tick)
  int64_t default_budget = 3;    // used when CreateTrial::max_resource is 0
  // Trials whose id % fail_modulo == fail_remainder fail at their first tick on attempt 0.
  int fail_modulo = 0;
  int fail_remainder = 0;
  int max_events = 200000;       // guard against a search that never ends
};

inline double GetNum(const ParamSample& p, const std::string& name) {
  const ParamValue& v = p.at(name);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return 0;
}

class ScriptWorld {
 public:
  ScriptWorld(CurveFn curve, WorldOptions options) : curve_(std::move(curve)), options_(options) {}

  // Runs until Shutdown. `between(k)` is called before the k-th event is delivered; it may replace
  // the searcher (snapshot/restore tests) through the reference it holds.
  Status Run(std::unique_ptr<Searcher>& searcher, const std::function<Status(int)>& between = {}) {
    STOKE_ASSIGN_OR_RETURN(std::vector<Action> first, searcher->Start());
    Apply(first);
    int delivered = 0;
    while (!done_) {
      if (events_.empty()) Tick();
      if (events_.empty()) return Status::Internal("no trial running and no shutdown");
      if (between) STOKE_RETURN_IF_ERROR(between(delivered));
      Event e = events_.front();
      events_.pop_front();
      transcript_.push_back("> " + EventToString(e));
      STOKE_ASSIGN_OR_RETURN(std::vector<Action> actions, searcher->OnEvent(e));
      Apply(actions);
      if (++delivered > options_.max_events) return Status::Internal("too many events");
    }
    return Status::Ok();
  }

  const std::vector<std::string>& transcript() const { return transcript_; }
  std::string TranscriptText() const {
    std::string out;
    for (const std::string& line : transcript_) out += line + "\n";
    return out;
  }
  // Resource units consumed by all trials together.
  int64_t total_resource() const { return total_resource_; }

 private:
  struct Running {
    int attempt = 0;
    ParamSample params;
    int64_t budget = 0;
    int64_t progress = 0;
  };

  void Apply(const std::vector<Action>& actions) {
    for (const Action& a : actions) {
      transcript_.push_back("< " + ActionToString(a));
      if (const auto* c = std::get_if<CreateTrial>(&a)) {
        running_[c->trial] = Running{c->attempt, c->params,
                                     c->max_resource > 0 ? c->max_resource : options_.default_budget, 0};
        events_.push_back(TrialCreated{c->trial});
      } else if (const auto* s = std::get_if<StopTrial>(&a)) {
        if (running_.erase(s->trial) != 0) events_.push_back(TrialExited{s->trial, ExitReason::kPruned});
      } else {
        done_ = true;
      }
    }
  }

  void Tick() {
    std::vector<TrialId> ids;
    for (const auto& [id, r] : running_) ids.push_back(id);
    for (TrialId id : ids) {
      Running& r = running_[id];
      if (options_.fail_modulo > 0 && r.attempt == 0 && id % options_.fail_modulo == options_.fail_remainder) {
        events_.push_back(TrialExited{id, ExitReason::kFailed});
        running_.erase(id);
        continue;
      }
      r.progress = std::min(r.budget, r.progress + options_.step);
      total_resource_ += options_.step;
      events_.push_back(ValidationReported{id, r.progress, curve_(r.params, r.progress)});
      if (r.progress >= r.budget) {
        events_.push_back(TrialExited{id, ExitReason::kCompleted});
        running_.erase(id);
      }
    }
  }

  CurveFn curve_;
  WorldOptions options_;
  std::map<TrialId, Running> running_;
  std::deque<Event> events_;
  std::vector<std::string> transcript_;
  bool done_ = false;
  int64_t total_resource_ = 0;
};

// Test objectives (minimum values: Branin 0.397887, Hartmann6 -3.32237).
inline double Branin(double x1, double x2) {
  const double pi = 3.14159265358979323846;
  const double b = 5.1 / (4 * pi * pi), c = 5 / pi, t = 1 / (8 * pi);
  return std::pow(x2 - b * x1 * x1 + c * x1 - 6, 2) + 10 * (1 - t) * std::cos(x1) + 10;
}

inline double Hartmann6(const double* x) {
  static const double a[4] = {1.0, 1.2, 3.0, 3.2};
  static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                 {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                 {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                 {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) inner += A[i][j] * (x[j] - P[i][j]) * (x[j] - P[i][j]);
    sum += a[i] * std::exp(-inner);
  }
  return -sum;
}

// A mixed space with every kind of parameter, and a curve over it that improves with resource.
inline SearchSpace MixedSpace() {
  SearchSpace s;
  ParamSpec x = ParamSpec::Float("x", -5, 10);
  x.grid_points = 3;
  ParamSpec y = ParamSpec::Float("y", 0, 15, Scale::kLinear, 0.5);
  ParamSpec lr = ParamSpec::Float("lr", 1e-4, 1e-1, Scale::kLog);
  lr.grid_points = 2;
  s.params = {x, y, lr, ParamSpec::Int("layers", 1, 4), ParamSpec::Categorical("opt", {"sgd", "adam", "rmsprop"}),
              ParamSpec::Fixed("batch", int64_t{64})};
  return s;
}

inline double MixedCurve(const ParamSample& p, int64_t resource) {
  const std::string& opt = std::get<std::string>(p.at("opt"));
  const double opt_cost = opt == "adam" ? 0.0 : opt == "sgd" ? 0.5 : 1.0;
  const double lr_cost = 0.3 * std::pow(std::log10(GetNum(p, "lr")) + 2.5, 2);
  const double base = Branin(GetNum(p, "x"), GetNum(p, "y")) / 10 + opt_cost + lr_cost + 0.1 * GetNum(p, "layers");
  return base + 2.0 / std::sqrt(static_cast<double>(resource));
}

}  // namespace stoke::hpo::testing
