#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "hpo/search_space.h"
#include "hpo/snapshot_codec.h"

namespace stoke::hpo {

// Trials are numbered by the search method that creates them: 0, 1, 2, ...
using TrialId = int64_t;

enum class Direction { kMinimize, kMaximize };

enum class TrialState {
  kRunning,    // created and not yet exited (includes trials asked to stop that have not exited yet)
  kCompleted,  // exited normally; its objective is its last reported value
  kFailed,     // failed and out of retries
  kPruned,     // stopped early by the search (ASHA, Hyperband, median stopping)
};

// One validation metric reported at `resource` (a step, an epoch: whatever unit the budget uses).
struct Report {
  int64_t resource = 0;
  double value = 0;
  bool operator==(const Report&) const = default;
};

struct TrialRecord {
  TrialId id = 0;
  int attempt = 0;  // 0 for the first run, +1 per retry after a failure
  TrialState state = TrialState::kRunning;
  ParamSample params;
  std::vector<double> coords;  // EncodeSample(space, params): the samplers' view
  std::vector<Report> reports;  // in arrival order, for the current attempt
  bool stop_requested = false;  // a StopTrial was issued and the exit has not arrived yet

  const Report* last_report() const { return reports.empty() ? nullptr : &reports.back(); }
};

// Every trial of an experiment with its curve. Objective values are kept as reported; Loss()
// turns them into "smaller is better" for the samplers. Not thread-safe.
class TrialHistory {
 public:
  explicit TrialHistory(Direction direction = Direction::kMinimize) : direction_(direction) {}

  Direction direction() const { return direction_; }
  // Minimization view of a value: negated when maximizing; NaN becomes +infinity.
  double Loss(double value) const;

  // REQUIRES: `id` is new.
  TrialRecord& Add(TrialId id, ParamSample params, std::vector<double> coords);
  TrialRecord* Find(TrialId id);
  const TrialRecord* Find(TrialId id) const;

  const std::vector<TrialRecord>& trials() const { return trials_; }
  size_t size() const { return trials_.size(); }

  // The completed trial with the lowest loss of its last report (earliest on ties), if any.
  std::optional<TrialId> BestTrial() const;

  void Write(SnapshotWriter& w) const;
  Status Read(SnapshotReader& r);

 private:
  Direction direction_;
  std::vector<TrialRecord> trials_;
  std::unordered_map<TrialId, size_t> index_;  // derived from trials_; not serialized
};

std::string_view TrialStateName(TrialState state);

}  // namespace stoke::hpo
