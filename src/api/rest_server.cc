#include "api/rest_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <exception>

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include "api/routes.h"
#include "api/status_to_http.h"

namespace stoke::api {

// Prometheus families for the server; values for jobs and slots are read at scrape time.
class ServerMetrics {
 public:
  ServerMetrics()
      : registry_(std::make_shared<prometheus::Registry>()),
        latency_(prometheus::BuildHistogram()
                     .Name("stoke_http_request_duration_seconds")
                     .Help("HTTP request latency by method and route")
                     .Register(*registry_)),
        jobs_(prometheus::BuildGauge().Name("stoke_jobs").Help("Jobs by state").Register(*registry_)),
        queue_(prometheus::BuildGauge().Name("stoke_queue_length").Help("Jobs waiting").Register(*registry_)),
        slots_total_(prometheus::BuildGauge().Name("stoke_slots_total").Help("Slots in the pool").Register(*registry_)),
        slots_used_(prometheus::BuildGauge().Name("stoke_slots_used").Help("Slots in use").Register(*registry_)) {}

  void Observe(const std::string& method, const std::string& route, double seconds) {
    static const prometheus::Histogram::BucketBoundaries kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                     0.1,   0.25,   0.5,   1,    2.5,   10};
    latency_.Add({{"method", method}, {"route", route}}, kBuckets).Observe(seconds);
  }

  std::string Scrape(store::Store& store, service::JobRunner& runner) {
    if (auto counts = store.CountJobsByState()) {
      for (JobState s : {JobState::kQueued, JobState::kStarting, JobState::kRunning, JobState::kCompleted,
                         JobState::kFailed, JobState::kKilled, JobState::kLost}) {
        auto it = counts->find(s);
        jobs_.Add({{"state", std::string(JobStateName(s))}}).Set(it == counts->end() ? 0.0 : double(it->second));
      }
    }
    service::ClusterSnapshot snap = runner.Snapshot();
    queue_.Add({}).Set(static_cast<double>(snap.queued.size()));
    int cpus_used = 0, gpus_used = 0;
    for (const Job& j : snap.running) {
      cpus_used += static_cast<int>(j.allocation.cpus.size());
      gpus_used += static_cast<int>(j.allocation.gpus.size());
    }
    slots_total_.Add({{"kind", "cpu"}}).Set(snap.pool.cpu_slots);
    slots_total_.Add({{"kind", "gpu"}}).Set(static_cast<double>(snap.pool.gpus.size()));
    slots_used_.Add({{"kind", "cpu"}}).Set(cpus_used);
    slots_used_.Add({{"kind", "gpu"}}).Set(gpus_used);
    return prometheus::TextSerializer().Serialize(registry_->Collect());
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;  // shared: prometheus-cpp's own ownership model
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Gauge>& jobs_;
  prometheus::Family<prometheus::Gauge>& queue_;
  prometheus::Family<prometheus::Gauge>& slots_total_;
  prometheus::Family<prometheus::Gauge>& slots_used_;
};

RestServer::RestServer(Deps deps, Options options)
    : deps_(deps), options_(std::move(options)), metrics_(std::make_unique<ServerMetrics>()) {
  for (auto& r : JobRoutes(deps_.jobs)) routes_.push_back(std::move(r));
  for (auto& r : TokenRoutes(deps_.auth)) routes_.push_back(std::move(r));
  for (auto& r : ClusterRoutes(deps_.runner)) routes_.push_back(std::move(r));
}

RestServer::~RestServer() = default;

void RestServer::AddRoutes(std::vector<Route> routes) {
  for (auto& r : routes) routes_.push_back(std::move(r));
}

void RestServer::Install() {
  if (!options_.tls_cert.empty()) {
    http_ = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str());
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  int threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_read_timeout(30, 0);
  http_->set_write_timeout(30, 0);
  http_->set_keep_alive_max_count(10000);
  // Small JSON answers on kept-alive connections must not wait for delayed ACKs (Nagle).
  http_->set_tcp_nodelay(true);

  for (const Route& route : routes_) {
    const Route* rp = &route;
    auto wrapped = [this, rp](const httplib::Request& req, httplib::Response& res) {
      auto start = std::chrono::steady_clock::now();
      RequestContext ctx;
      Status status;
      if (rp->needs_auth) {
        // WMLA clients send X-Auth-Token; everyone else Authorization: Bearer.
        std::string authorization = req.get_header_value("Authorization");
        if (authorization.empty() && req.has_header("X-Auth-Token")) {
          authorization = "Bearer " + req.get_header_value("X-Auth-Token");
        }
        auto principal = deps_.auth.Authenticate(authorization);
        if (!principal) {
          status = principal.error();
        } else {
          ctx.principal = *principal;
        }
      }
      if (status.ok()) {
        try {
          status = rp->handler(req, res, ctx);
        } catch (const std::exception& e) {
          spdlog::error("{} {}: unhandled exception: {}", req.method, req.path, e.what());
          status = Status::Internal("internal error while handling the request");
        }
      }
      if (!status.ok()) {
        if (rp->error_writer) {
          rp->error_writer(res, status);
        } else {
          WriteError(res, status);
        }
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      metrics_->Observe(rp->method, rp->openapi_path, secs);
    };
    if (route.method == "GET") http_->Get(route.pattern, wrapped);
    else if (route.method == "POST") http_->Post(route.pattern, wrapped);
    else if (route.method == "DELETE") http_->Delete(route.pattern, wrapped);
    else if (route.method == "PUT") http_->Put(route.pattern, wrapped);
    else if (route.method == "PATCH") http_->Patch(route.pattern, wrapped);
  }

  http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    WriteJson(res, 200, R"({"status":"ok"})");
  });
  http_->Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    auto principal = deps_.auth.Authenticate(req.get_header_value("Authorization"));
    if (!principal) return WriteError(res, principal.error());
    std::string text = metrics_->Scrape(deps_.store, deps_.runner);
    if (options_.extra_metrics) text += options_.extra_metrics();
    res.set_content(text, "text/plain; version=0.0.4");
  });
  std::string openapi = OpenApiDocument(routes_);
  http_->Get("/api/v1/openapi.json", [this, openapi](const httplib::Request& req, httplib::Response& res) {
    auto principal = deps_.auth.Authenticate(req.get_header_value("Authorization"));
    if (!principal) return WriteError(res, principal.error());
    WriteJson(res, 200, openapi);
  });
  if (!options_.web_root.empty()) http_->set_mount_point("/", options_.web_root);

  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    Status s;
    if (res.status == 404) s = Status::NotFound("no route " + req.method + " " + req.path);
    else if (res.status == 413) s = Status::ResourceExhausted("request body too large", "body");
    else if (res.status == 400) s = Status::InvalidArgument("malformed HTTP request");
    else s = Status(StatusCode::kInvalidArgument, "request failed with HTTP " + std::to_string(res.status));
    int code = res.status;
    WriteJson(res, code, ErrorBody(s));
  });
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    WriteJson(res, 500, ErrorBody(Status::Internal("internal error while handling the request")));
  });
}

namespace {

// Debian's compiled cpp-httplib listens with a backlog of 5, which drops connection bursts (200
// clients arriving at once retransmit SYNs for seconds). Linux lets listen() be called again on a
// listening socket to raise its backlog: find ours by its port and do that.
void RaiseListenBacklog(int port, int backlog) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (dirent* entry = ::readdir(dir)) {
    int fd = std::atoi(entry->d_name);
    if (fd <= 2) continue;
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0) continue;
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) continue;
    int bound = 0;
    if (addr.ss_family == AF_INET) bound = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) bound = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (bound == port) ::listen(fd, backlog);
  }
  ::closedir(dir);
}

}  // namespace

Result<int> RestServer::Bind() {
  Install();
  if (!http_->is_valid()) return Err(Status::InvalidArgument("cannot load the TLS certificate or key", "tls_cert"));
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.bind);
  } else if (!http_->bind_to_port(options_.bind, port)) {
    port = -1;
  }
  if (port < 0) {
    return Err(Status::Unavailable("cannot listen on " + options_.bind + ":" + std::to_string(options_.port) +
                                   " (in use, or not allowed)"));
  }
  RaiseListenBacklog(port, 4096);
  return port;
}

void RestServer::Serve() {
  serving_ = true;
  if (!stop_requested_) http_->listen_after_bind();
  serving_ = false;
}

void RestServer::Stop() {
  // httplib's stop() does nothing until its accept loop runs, and that loop would then never end:
  // a Stop() racing a Serve() that has not started listening yet waits for it to (or to give up).
  stop_requested_ = true;
  if (!http_) return;
  while (serving_ && !http_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
}

}  // namespace stoke::api
