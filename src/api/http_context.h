#pragma once

#include <functional>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/status.h"
#include "service/principal.h"

namespace stoke::api {

// What a handler gets besides the raw request: the authenticated caller.
struct RequestContext {
  service::Principal principal;
};

using Handler = std::function<Status(const httplib::Request&, httplib::Response&, const RequestContext&)>;

// One REST route. The table of routes is the source of both the HTTP dispatch and openapi.json,
// so the document describes what the server really does.
struct Route {
  std::string method;        // GET, POST, DELETE, PUT
  std::string pattern;       // httplib regex, e.g. R"(/api/v1/jobs/(\d+))"
  std::string openapi_path;  // "/api/v1/jobs/{id}"
  std::string summary;
  bool needs_auth = true;
  Handler handler;
  std::vector<std::string> query_params = {};
  // Writes an error in another API's format (the WMLA layer); null = Stoke's JSON error.
  std::function<void(httplib::Response&, const Status&)> error_writer = nullptr;
};

// Response helpers shared by handler files.
void WriteJson(httplib::Response& res, int status, const std::string& body);
void WriteError(httplib::Response& res, const Status& status);
// Streams the file at `path` as a download named `filename`, then it is gone: the file is unlinked
// at once and the open stream keeps its bytes until they are sent (result archives).
void SendTemporaryFile(httplib::Response& res, const std::string& path, const std::string& filename,
                       const std::string& content_type);
// Parses the path id captured by the route regex; NotFound on junk.
Result<int64_t> PathId(const httplib::Request& req, size_t index = 1);
// Query parameter helpers with field-named errors.
Result<std::optional<int64_t>> QueryInt(const httplib::Request& req, const std::string& name, int64_t min, int64_t max);
// Checks Content-Type is JSON and the body is within `max_bytes`; returns the parsed body.
Result<nlohmann::json> JsonBody(const httplib::Request& req, size_t max_bytes = 1 << 20);

}  // namespace stoke::api
