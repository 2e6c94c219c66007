#pragma once

#include <optional>
#include <string_view>

#include "common/status.h"

namespace stoke::cli {

// The inverse of StatusCodeName: "not_found" -> kNotFound. nullopt for unknown names.
// (A candidate for common/status.h; kept here until common grows it.)
std::optional<StatusCode> ParseStatusCodeName(std::string_view name);

// The StatusCode a bare HTTP status stands for when the body says nothing usable (proxies, crashes).
StatusCode StatusCodeFromHttp(int http_status);

// Turns a non-2xx answer into a Status. Reads the contract's error body
// {"error": {"code", "message", "field"}}; falls back to the HTTP status and a short excerpt of the
// body when the body is not in that shape.
Status DecodeErrorBody(int http_status, std::string_view body);

}  // namespace stoke::cli
