#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/job.h"
#include "common/status.h"
#include "service/experiment.h"

// How Stoke's objects and errors look in WMLA's REST dialect. Pure functions; thread-safe.
namespace stoke::wmla {

// QUEUED→PENDING_JOB_SCHEDULER, STARTING→LAUNCHING, RUNNING, COMPLETED→FINISHED, FAILED/LOST→ERROR, KILLED.
std::string_view ExecStateName(JobState state);
// RUNNING (SUBMITTED before any trial started), COMPLETED→FINISHED, STOPPED, FAILED.
std::string_view HpoStateName(const service::Experiment& e);
// For a trial without a job yet; otherwise the job's ExecStateName wins.
std::string_view TrialExecStateName(service::TrialState state);

// "wmla-42" for job 42.
std::string ExecId(JobId id);
// Accepts "wmla-42" and the bare Stoke id "42"; nullopt for anything else.
std::optional<JobId> ParseExecId(std::string_view text);

// "2021-03-08T03:24:40Z" (WMLA's createTime form); "" for 0.
std::string WmlaTime(UnixMillis ms);
// "HH:MM:SS" (hours may exceed 24).
std::string Duration(UnixMillis ms);

// The WMLA error body: {"code": <HTTP status>, "message": "...", "description": "<Stoke code name>"}
// plus "field" when the error is about one request field.
nlohmann::json ErrorJson(const Status& status);
// Writes ErrorJson with the HTTP status the Stoke code maps to (api/status_to_http.h); an unauthenticated
// answer also carries `WWW-Authenticate: Basic realm="stoke"`. Usable as api::Route::error_writer.
void WriteWmlaError(httplib::Response& res, const Status& status);

}  // namespace stoke::wmla
