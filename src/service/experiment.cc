#include "service/experiment.h"

#include <array>
#include <utility>

namespace stoke::service {

namespace {
constexpr std::array<std::pair<ExperimentState, std::string_view>, 4> kExperimentStates = {{
    {ExperimentState::kRunning, "RUNNING"},
    {ExperimentState::kCompleted, "COMPLETED"},
    {ExperimentState::kStopped, "STOPPED"},
    {ExperimentState::kFailed, "FAILED"},
}};
constexpr std::array<std::pair<TrialState, std::string_view>, 6> kTrialStates = {{
    {TrialState::kPending, "PENDING"},
    {TrialState::kRunning, "RUNNING"},
    {TrialState::kCompleted, "COMPLETED"},
    {TrialState::kPruned, "PRUNED"},
    {TrialState::kFailed, "FAILED"},
    {TrialState::kStopped, "STOPPED"},
}};

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "UNKNOWN";
}

template <typename E, size_t N>
std::optional<E> ValueOf(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view name) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  return std::nullopt;
}
}  // namespace

std::string_view ExperimentStateName(ExperimentState s) { return NameOf(kExperimentStates, s); }
std::optional<ExperimentState> ParseExperimentState(std::string_view s) { return ValueOf(kExperimentStates, s); }
std::string_view TrialStateName(TrialState s) { return NameOf(kTrialStates, s); }
std::optional<TrialState> ParseTrialState(std::string_view s) { return ValueOf(kTrialStates, s); }

const Trial* Experiment::Best() const {
  const Trial* best = nullptr;
  for (const Trial& t : trials) {
    if (!t.best_value) continue;
    if (t.state != TrialState::kCompleted && t.state != TrialState::kPruned && t.state != TrialState::kRunning) {
      continue;
    }
    if (best == nullptr || (spec.maximize ? *t.best_value > *best->best_value : *t.best_value < *best->best_value)) {
      best = &t;
    }
  }
  return best;
}

}  // namespace stoke::service
