#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "hpo/search_space.h"
#include "hpo/trial_history.h"

namespace stoke::hpo {

// ---- Events: what happened to trials (the orchestrator tells the search method). ----

// The trial's job exists (informational; a trial counts as in flight from its CreateTrial).
struct TrialCreated {
  TrialId trial = 0;
};

// The trial reported its validation metric after training to `resource` units.
struct ValidationReported {
  TrialId trial = 0;
  int64_t resource = 0;
  double value = 0;
};

enum class ExitReason {
  kCompleted,  // ran to its budget or finished on its own
  kFailed,     // crashed, could not start, was lost
  kPruned,     // stopped because of a StopTrial
};

struct TrialExited {
  TrialId trial = 0;
  ExitReason reason = ExitReason::kCompleted;
};

using Event = std::variant<TrialCreated, ValidationReported, TrialExited>;

// ---- Actions: what the orchestrator should do. ----

// Start trial `trial` (attempt 0) or re-run it after a failure (attempt > 0, same params).
// The trial trains up to `max_resource` units (0: the trial decides) and reports as it goes.
struct CreateTrial {
  TrialId trial = 0;
  int attempt = 0;
  ParamSample params;
  int64_t max_resource = 0;
  bool operator==(const CreateTrial&) const = default;
};

// Stop the trial now; it should answer with TrialExited{kPruned} (or kCompleted if it already ended).
struct StopTrial {
  TrialId trial = 0;
  std::string reason;
  bool operator==(const StopTrial&) const = default;
};

// The experiment is over: no more trials will be created and none is in flight.
struct Shutdown {
  bool failure = false;
  std::string reason;
  bool operator==(const Shutdown&) const = default;
};

using Action = std::variant<CreateTrial, StopTrial, Shutdown>;

// One line per action, stable across platforms (used by golden files and logs).
std::string ActionToString(const Action& action);
std::string EventToString(const Event& event);
std::string_view ExitReasonName(ExitReason reason);

}  // namespace stoke::hpo
