#include "common/job.h"

#include <array>
#include <utility>

namespace stoke {
namespace {
constexpr std::array<std::pair<JobState, std::string_view>, 7> kStateNames = {{
    {JobState::kQueued, "QUEUED"},
    {JobState::kStarting, "STARTING"},
    {JobState::kRunning, "RUNNING"},
    {JobState::kCompleted, "COMPLETED"},
    {JobState::kFailed, "FAILED"},
    {JobState::kKilled, "KILLED"},
    {JobState::kLost, "LOST"},
}};
}  // namespace

std::string_view JobStateName(JobState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "UNKNOWN";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

bool IsTerminal(JobState state) {
  return state == JobState::kCompleted || state == JobState::kFailed || state == JobState::kKilled ||
         state == JobState::kLost;
}

std::string_view JobTypeName(JobType type) { return type == JobType::kElastic ? "elastic" : "command"; }

}  // namespace stoke
