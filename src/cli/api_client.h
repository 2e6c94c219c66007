#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/client_config.h"
#include "common/status.h"

namespace stoke::cli {

// Query parameters, in order; values are percent-encoded by the client.
using Query = std::vector<std::pair<std::string, std::string>>;

// One part of a multipart/form-data body.
struct MultipartPart {
  std::string name;
  std::string content;
  std::string filename;      // empty for a plain field
  std::string content_type;  // e.g. "application/json", "application/gzip"
};

// Receives streamed body bytes as they arrive; return false to stop early (not an error).
using ChunkSink = std::function<bool(std::string_view)>;

// A client for the Stoke REST API v1 (docs/api.md). Paths are relative to /api/v1 ("/jobs/42").
// Every call opens its own connection, so one ApiClient may be used from several threads at once.
// Failures come back as Status: a non-2xx answer carries the server's code, message and field;
// a transport failure is kUnavailable "cannot reach the Stoke server at URL: ...".
class ApiClient {
 public:
  struct Timeouts {
    std::chrono::seconds connect{5};
    std::chrono::seconds read{60};
    std::chrono::seconds stream_read{86400};  // silence allowed on a follow stream (quiet jobs) before giving up
  };

  // Fails on a malformed URL.
  static Result<ApiClient> Create(ClientConfig config, Timeouts timeouts);
  static Result<ApiClient> Create(ClientConfig config) { return Create(std::move(config), Timeouts{}); }

  const std::string& url() const { return config_.url; }
  bool has_token() const { return !config_.token.empty(); }

  // JSON calls. An empty body (204) comes back as a null json value.
  Result<nlohmann::json> Get(std::string_view path, const Query& query = {}) const;
  Result<nlohmann::json> Post(std::string_view path, const nlohmann::json& body, const Query& query = {}) const;
  Result<nlohmann::json> PostMultipart(std::string_view path, const std::vector<MultipartPart>& parts) const;
  Result<nlohmann::json> Delete(std::string_view path) const;

  // GET whose body is handed to `sink` as it arrives (logs -f). For a non-2xx answer nothing reaches
  // the sink and the decoded error is returned.
  Status Stream(std::string_view path, const Query& query, const ChunkSink& sink) const;

  // GET of a binary body into the file `out_path` (created or truncated).
  Status Download(std::string_view path, const Query& query, const std::string& out_path) const;

  // "/api/v1" + path + "?" + encoded query, under the URL's own path prefix if any.
  std::string Target(std::string_view path, const Query& query) const;

 private:
  ApiClient(ClientConfig config, Timeouts timeouts, std::string origin, std::string prefix)
      : config_(std::move(config)), timeouts_(timeouts), origin_(std::move(origin)), prefix_(std::move(prefix)) {}

  Status TransportError(int error) const;

  ClientConfig config_;
  Timeouts timeouts_;
  std::string origin_;  // scheme://host[:port]
  std::string prefix_;  // path prefix from the URL, "" or "/stoke"
};

// Percent-encodes a query component (RFC 3986 unreserved characters pass through).
std::string EncodeQueryComponent(std::string_view s);

}  // namespace stoke::cli
