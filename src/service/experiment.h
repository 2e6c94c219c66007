#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/job.h"
#include "hpo/searcher.h"

namespace stoke::service {

using ExperimentId = int64_t;

enum class ExperimentState { kRunning, kCompleted, kStopped, kFailed };
enum class TrialState { kPending, kRunning, kCompleted, kPruned, kFailed, kStopped };

std::string_view ExperimentStateName(ExperimentState s);
std::optional<ExperimentState> ParseExperimentState(std::string_view s);
std::string_view TrialStateName(TrialState s);
std::optional<TrialState> ParseTrialState(std::string_view s);

// A parsed experiment spec: what to search (hpo config), how to run one trial (a job template
// whose argv may hold {name} placeholders), and the original text for display and re-parsing.
struct ExperimentSpec {
  std::string name;
  std::string metric;                 // the objective metric trials report
  bool maximize = false;
  std::string resource_param;         // asha/hyperband: hyperparameter that carries the budget
  int64_t max_time_s = 0;             // 0 = no limit
  hpo::ExperimentConfig config;
  JobSpec trial;
  std::string spec_json;              // as submitted (normalized to JSON)
};

struct Trial {
  int64_t id = 0;
  int attempt = 0;
  JobId job = 0;                      // 0 = not submitted yet
  hpo::ParamSample params;
  int64_t max_resource = 0;
  TrialState state = TrialState::kPending;
  std::optional<double> value;        // last objective value reported
  std::optional<double> best_value;   // best objective value reported
  int64_t last_step = -1;             // highest step already fed to the search
  std::string reason;
  bool stop_requested = false;
  UnixMillis created_at = 0;
  UnixMillis finished_at = 0;
  std::vector<JobId> previous_jobs;   // earlier attempts
};

struct Experiment {
  ExperimentId id = 0;
  std::string user;
  ExperimentSpec spec;
  ExperimentState state = ExperimentState::kRunning;
  std::string reason;
  double progress = 0;
  UnixMillis created_at = 0;
  UnixMillis finished_at = 0;
  std::string code_archive;           // path of the uploaded code, unpacked for every trial
  std::string searcher_snapshot;      // empty = not started
  bool search_done = false;           // the search emitted Shutdown
  std::vector<Trial> trials;

  const Trial* Best() const;
};

}  // namespace stoke::service
