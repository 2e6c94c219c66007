#include "hpo/trial_history.h"

#include <cmath>
#include <limits>

namespace stoke::hpo {

std::string_view TrialStateName(TrialState state) {
  switch (state) {
    case TrialState::kRunning: return "running";
    case TrialState::kCompleted: return "completed";
    case TrialState::kFailed: return "failed";
    case TrialState::kPruned: return "pruned";
  }
  return "running";
}

double TrialHistory::Loss(double value) const {
  if (std::isnan(value)) return std::numeric_limits<double>::infinity();
  return direction_ == Direction::kMaximize ? -value : value;
}

TrialRecord& TrialHistory::Add(TrialId id, ParamSample params, std::vector<double> coords) {
  index_[id] = trials_.size();
  TrialRecord& rec = trials_.emplace_back();
  rec.id = id;
  rec.params = std::move(params);
  rec.coords = std::move(coords);
  return rec;
}

TrialRecord* TrialHistory::Find(TrialId id) {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &trials_[it->second];
}

const TrialRecord* TrialHistory::Find(TrialId id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &trials_[it->second];
}

std::optional<TrialId> TrialHistory::BestTrial() const {
  std::optional<TrialId> best;
  double best_loss = std::numeric_limits<double>::infinity();
  for (const TrialRecord& t : trials_) {
    if (t.state != TrialState::kCompleted || t.reports.empty()) continue;
    const double loss = Loss(t.reports.back().value);
    if (!best || loss < best_loss) {
      best = t.id;
      best_loss = loss;
    }
  }
  return best;
}

void TrialHistory::Write(SnapshotWriter& w) const {
  w.Label("history").I64(direction_ == Direction::kMaximize ? 1 : 0).U64(trials_.size()).NewLine();
  for (const TrialRecord& t : trials_) {
    w.Label("trial").I64(t.id).I64(t.attempt).I64(static_cast<int64_t>(t.state)).I64(t.stop_requested ? 1 : 0);
    w.Sample(t.params).U64(t.coords.size());
    for (double c : t.coords) w.F64(c);
    w.U64(t.reports.size());
    for (const Report& r : t.reports) w.I64(r.resource).F64(r.value);
    w.NewLine();
  }
}

Status TrialHistory::Read(SnapshotReader& r) {
  STOKE_RETURN_IF_ERROR(r.Expect("history"));
  STOKE_ASSIGN_OR_RETURN(int64_t dir, r.I64());
  direction_ = dir == 1 ? Direction::kMaximize : Direction::kMinimize;
  STOKE_ASSIGN_OR_RETURN(size_t n, r.Count());
  trials_.clear();
  index_.clear();
  for (size_t i = 0; i < n; ++i) {
    STOKE_RETURN_IF_ERROR(r.Expect("trial"));
    STOKE_ASSIGN_OR_RETURN(int64_t id, r.I64());
    STOKE_ASSIGN_OR_RETURN(int64_t attempt, r.I64());
    STOKE_ASSIGN_OR_RETURN(int64_t state, r.I64());
    STOKE_ASSIGN_OR_RETURN(int64_t stop, r.I64());
    STOKE_ASSIGN_OR_RETURN(ParamSample params, r.Sample());
    if (state < 0 || state > static_cast<int64_t>(TrialState::kPruned)) {
      return Status::InvalidArgument("malformed snapshot: bad trial state");
    }
    STOKE_ASSIGN_OR_RETURN(size_t nc, r.Count());
    std::vector<double> coords(nc);
    for (double& c : coords) {
      STOKE_ASSIGN_OR_RETURN(c, r.F64());
    }
    TrialRecord& rec = Add(id, std::move(params), std::move(coords));
    rec.attempt = static_cast<int>(attempt);
    rec.state = static_cast<TrialState>(state);
    rec.stop_requested = stop != 0;
    STOKE_ASSIGN_OR_RETURN(size_t nr, r.Count());
    rec.reports.resize(nr);
    for (Report& rep : rec.reports) {
      STOKE_ASSIGN_OR_RETURN(rep.resource, r.I64());
      STOKE_ASSIGN_OR_RETURN(rep.value, r.F64());
    }
  }
  return Status::Ok();
}

}  // namespace stoke::hpo
