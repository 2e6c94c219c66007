#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/http_context.h"
#include "service/auth_service.h"
#include "service/job_runner.h"
#include "service/job_service.h"
#include "store/store.h"

namespace httplib {
class Server;
}

namespace stoke::api {

class ServerMetrics;

// The HTTP front door: routes, bearer auth, the JSON error contract, /healthz, /metrics and
// openapi.json. Handlers run on a pool of threads sized for long-lived log streams.
// Thread-safe once started.
class RestServer {
 public:
  struct Deps {
    service::AuthService& auth;
    service::JobService& jobs;
    service::JobRunner& runner;
    store::Store& store;
  };
  struct Options {
    std::string bind = "127.0.0.1";
    int port = 8080;              // 0 = pick a free port
    std::string tls_cert;         // both set = HTTPS
    std::string tls_key;
    size_t max_body_bytes = 64u << 20;
    int threads = 512;            // a kept-alive connection or a log stream holds one thread
    std::string web_root;         // static UI assets served at / when set
    // More Prometheus text appended to /metrics (other components' families).
    std::function<std::string()> extra_metrics = nullptr;
  };

  RestServer(Deps deps, Options options);
  ~RestServer();

  // Extra routes from other components (HPO, deployments, WMLA) before Start().
  void AddRoutes(std::vector<Route> routes);

  // Binds the port (so the caller can print it) without serving yet.
  Result<int> Bind();
  // Serves until Stop(); blocks.
  void Serve();
  void Stop();

  const std::vector<Route>& routes() const { return routes_; }

 private:
  void Install();

  Deps deps_;
  Options options_;
  std::vector<Route> routes_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::atomic<bool> serving_{false};         // inside Serve()
  std::atomic<bool> stop_requested_{false};
};

// The OpenAPI 3 document generated from the route table.
std::string OpenApiDocument(const std::vector<Route>& routes);

}  // namespace stoke::api
