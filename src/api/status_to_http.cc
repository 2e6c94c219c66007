#include "api/status_to_http.h"

#include <nlohmann/json.hpp>

namespace stoke::api {

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted: return 409;
    // Oversized input is the common cause; a field names what was too big.
    case StatusCode::kResourceExhausted: return status.field().empty() ? 429 : 413;
    case StatusCode::kCancelled: return 499;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

std::string ErrorBody(const Status& status) {
  nlohmann::json body = {{"error",
                          {{"code", std::string(StatusCodeName(status.code()))},
                           {"message", status.message()},
                           {"field", status.field()}}}};
  // Messages may quote what the client sent; never fail on its bytes (invalid UTF-8 is replaced).
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace stoke::api
