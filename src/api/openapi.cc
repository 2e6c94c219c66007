#include <nlohmann/json.hpp>

#include "api/rest_server.h"

namespace stoke::api {

using nlohmann::json;

std::string OpenApiDocument(const std::vector<Route>& routes) {
  json paths = json::object();
  for (const Route& r : routes) {
    json op = {{"summary", r.summary},
               {"responses",
                {{"2XX", {{"description", "success"}}},
                 {"default", {{"description", "error"}, {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}}}};
    json params = json::array();
    size_t pos = 0;
    while ((pos = r.openapi_path.find('{', pos)) != std::string::npos) {
      size_t end = r.openapi_path.find('}', pos);
      params.push_back({{"name", r.openapi_path.substr(pos + 1, end - pos - 1)},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
      pos = end;
    }
    for (const auto& q : r.query_params) {
      params.push_back({{"name", q}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (r.needs_auth) op["security"] = json::array({{{"bearer", json::array()}}});
    std::string method = r.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[r.openapi_path][method] = op;
  }
  paths["/healthz"]["get"] = {{"summary", "Liveness (no token)"}, {"responses", {{"200", {{"description", "ok"}}}}}};
  paths["/metrics"]["get"] = {{"summary", "Prometheus text metrics"}, {"responses", {{"200", {{"description", "ok"}}}}}};
  paths["/api/v1/openapi.json"]["get"] = {{"summary", "This document"}, {"responses", {{"200", {{"description", "ok"}}}}}};
  json doc = {
      {"openapi", "3.0.3"},
      {"info", {{"title", "Stoke API"}, {"version", "v1"}}},
      {"paths", paths},
      {"components",
       {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"},
            {"properties",
             {{"error",
               {{"type", "object"},
                {"properties",
                 {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}, {"field", {{"type", "string"}}}}}}}}}}}}}}},
  };
  return doc.dump();
}

}  // namespace stoke::api
