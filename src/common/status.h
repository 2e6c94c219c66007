#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace stoke {

// The outcome kinds every component speaks. The HTTP layer maps them to status
// codes in exactly one place (api/status_to_http.cc).
enum class StatusCode {
  kOk,
  kInvalidArgument,     // the caller sent something wrong; `field` names it
  kUnauthenticated,     // no or bad credentials
  kPermissionDenied,    // authenticated, but not allowed
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,  // valid request, wrong state (e.g. delete a running job)
  kAborted,             // concurrent modification; retry
  kUnavailable,         // transient; retry (peer lost, store busy)
  kDeadlineExceeded,
  kResourceExhausted,   // too big, too many
  kCancelled,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

// A cheap success-or-error value (leveldb style). An OK status holds no strings.
class [[nodiscard]] Status {
 public:
  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg, std::string field = {}) {
    return Status(StatusCode::kInvalidArgument, std::move(msg), std::move(field));
  }
  static Status Unauthenticated(std::string msg) { return Status(StatusCode::kUnauthenticated, std::move(msg)); }
  static Status PermissionDenied(std::string msg) { return Status(StatusCode::kPermissionDenied, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) { return Status(StatusCode::kAlreadyExists, std::move(msg)); }
  static Status FailedPrecondition(std::string msg) {
    return Status(StatusCode::kFailedPrecondition, std::move(msg));
  }
  static Status Aborted(std::string msg) { return Status(StatusCode::kAborted, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(StatusCode::kUnavailable, std::move(msg)); }
  static Status DeadlineExceeded(std::string msg) { return Status(StatusCode::kDeadlineExceeded, std::move(msg)); }
  static Status ResourceExhausted(std::string msg, std::string field = {}) {
    return Status(StatusCode::kResourceExhausted, std::move(msg), std::move(field));
  }
  static Status Cancelled(std::string msg) { return Status(StatusCode::kCancelled, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(StatusCode::kInternal, std::move(msg)); }

  // Lets the STOKE_RETURN_IF_ERROR family return Err(...) from functions that return Status.
  Status(std::unexpected<Status> error) : Status(std::move(error.error())) {}  // NOLINT(google-explicit-constructor)

  Status(StatusCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The request field the error is about ("resources.gpus"); empty when none.
  const std::string& field() const { return field_; }

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;
  // Returns a copy whose field is prefixed with `prefix.` (or set, when empty).
  Status WithFieldPrefix(std::string_view prefix) const;

  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
};

// A value or the Status that explains why there is none.
template <typename T>
using Result = std::expected<T, Status>;

// Lets `return Status::NotFound(...)` work inside functions returning Result<T>.
inline std::unexpected<Status> Err(Status s) { return std::unexpected<Status>(std::move(s)); }

}  // namespace stoke

#define STOKE_CONCAT_INNER_(a, b) a##b
#define STOKE_CONCAT_(a, b) STOKE_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` (a Status) is not OK.
// Works in functions returning Status or Result<T>.
#define STOKE_RETURN_IF_ERROR(expr)                                 \
  do {                                                             \
    ::stoke::Status stoke_status_ = (expr);                        \
    if (!stoke_status_.ok()) return ::stoke::Err(std::move(stoke_status_)); \
  } while (0)

// `STOKE_ASSIGN_OR_RETURN(auto x, MakeX());` — unwraps a Result or returns its error.
#define STOKE_ASSIGN_OR_RETURN(lhs, expr) \
  STOKE_ASSIGN_OR_RETURN_IMPL_(STOKE_CONCAT_(stoke_result_, __LINE__), lhs, expr)
#define STOKE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)       \
  auto tmp = (expr);                                       \
  if (!tmp.has_value()) return ::stoke::Err(std::move(tmp.error())); \
  lhs = std::move(*tmp)
