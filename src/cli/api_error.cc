#include "cli/api_error.h"

#include <array>
#include <string>

#include <nlohmann/json.hpp>

namespace stoke::cli {

std::optional<StatusCode> ParseStatusCodeName(std::string_view name) {
  static constexpr std::array kAll = {
      StatusCode::kOk,          StatusCode::kInvalidArgument,    StatusCode::kUnauthenticated,
      StatusCode::kPermissionDenied, StatusCode::kNotFound,     StatusCode::kAlreadyExists,
      StatusCode::kFailedPrecondition, StatusCode::kAborted,    StatusCode::kUnavailable,
      StatusCode::kDeadlineExceeded, StatusCode::kResourceExhausted, StatusCode::kCancelled,
      StatusCode::kInternal,
  };
  for (StatusCode code : kAll) {
    if (StatusCodeName(code) == name) return code;
  }
  return std::nullopt;
}

StatusCode StatusCodeFromHttp(int http_status) {
  switch (http_status) {
    case 400: case 415: return StatusCode::kInvalidArgument;
    case 401: return StatusCode::kUnauthenticated;
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 409: return StatusCode::kFailedPrecondition;
    case 413: case 429: return StatusCode::kResourceExhausted;
    case 499: return StatusCode::kCancelled;
    case 502: case 503: return StatusCode::kUnavailable;
    case 504: return StatusCode::kDeadlineExceeded;
    default: break;
  }
  if (http_status >= 400 && http_status < 500) return StatusCode::kInvalidArgument;
  return StatusCode::kInternal;
}

Status DecodeErrorBody(int http_status, std::string_view body) {
  StatusCode fallback = StatusCodeFromHttp(http_status);
  // Without exceptions: parse returns a discarded value on malformed input.
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    const nlohmann::json& e = doc["error"];
    StatusCode code = fallback;
    if (e.contains("code") && e["code"].is_string()) {
      code = ParseStatusCodeName(e["code"].get<std::string>()).value_or(fallback);
    }
    // An error body that claims "ok" is a server bug; never turn a failure into success.
    if (code == StatusCode::kOk) code = fallback;
    std::string message = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>()
                                                                            : "HTTP " + std::to_string(http_status);
    std::string field = e.contains("field") && e["field"].is_string() ? e["field"].get<std::string>() : "";
    return Status(code, std::move(message), std::move(field));
  }
  std::string excerpt(body.substr(0, 200));
  while (!excerpt.empty() && (excerpt.back() == '\n' || excerpt.back() == '\r')) excerpt.pop_back();
  std::string message = "HTTP " + std::to_string(http_status);
  if (!excerpt.empty()) message += ": " + excerpt;
  return Status(fallback, std::move(message));
}

}  // namespace stoke::cli
