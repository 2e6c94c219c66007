#include "wmla/wmla_format.h"

#include <charconv>
#include <ctime>

#include "api/status_to_http.h"

namespace stoke::wmla {

std::string_view ExecStateName(JobState state) {
  switch (state) {
    case JobState::kQueued: return "PENDING_JOB_SCHEDULER";
    case JobState::kStarting: return "LAUNCHING";
    case JobState::kRunning: return "RUNNING";
    case JobState::kCompleted: return "FINISHED";
    case JobState::kFailed: return "ERROR";
    case JobState::kLost: return "ERROR";
    case JobState::kKilled: return "KILLED";
  }
  return "UNKNOWN";
}

std::string_view HpoStateName(const service::Experiment& e) {
  switch (e.state) {
    case service::ExperimentState::kRunning: {
      for (const auto& t : e.trials) {
        if (t.job != 0) return "RUNNING";
      }
      return "SUBMITTED";
    }
    case service::ExperimentState::kCompleted: return "FINISHED";
    case service::ExperimentState::kStopped: return "STOPPED";
    case service::ExperimentState::kFailed: return "FAILED";
  }
  return "UNKNOWN";
}

std::string_view TrialExecStateName(service::TrialState state) {
  switch (state) {
    case service::TrialState::kPending: return "PENDING_JOB_SCHEDULER";
    case service::TrialState::kRunning: return "RUNNING";
    case service::TrialState::kCompleted: return "FINISHED";
    case service::TrialState::kPruned: return "KILLED";
    case service::TrialState::kFailed: return "ERROR";
    case service::TrialState::kStopped: return "KILLED";
  }
  return "UNKNOWN";
}

std::string ExecId(JobId id) { return "wmla-" + std::to_string(id); }

std::optional<JobId> ParseExecId(std::string_view text) {
  if (text.starts_with("wmla-")) text.remove_prefix(5);
  JobId id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

std::string WmlaTime(UnixMillis ms) {
  if (ms <= 0) return "";
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Duration(UnixMillis ms) {
  if (ms < 0) ms = 0;
  int64_t s = ms / 1000;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>((s / 60) % 60), static_cast<long long>(s % 60));
  return buf;
}

nlohmann::json ErrorJson(const Status& status) {
  nlohmann::json out = {{"code", api::HttpStatusFor(status)},
                        {"message", status.message()},
                        {"description", std::string(StatusCodeName(status.code()))}};
  if (!status.field().empty()) out["field"] = status.field();
  return out;
}

void WriteWmlaError(httplib::Response& res, const Status& status) {
  int http = api::HttpStatusFor(status);
  if (status.code() == StatusCode::kUnauthenticated) res.set_header("WWW-Authenticate", "Basic realm=\"stoke\"");
  res.status = http;
  res.set_content(ErrorJson(status).dump(), "application/json");
}

}  // namespace stoke::wmla
