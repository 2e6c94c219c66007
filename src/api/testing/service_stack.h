#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "api/rest_server.h"
#include "launch/local_launcher.h"
#include "service/auth_service.h"
#include "service/job_runner.h"
#include "service/job_service.h"
#include "store/store.h"

namespace stoke::api::testing {

// For route tests: the control plane's services over a real store in a fresh temporary directory,
// and a real RestServer on a free loopback port with whatever extra routes the test adds. The job
// runner is not started (jobs stay QUEUED). A class that adds services its routes use must call
// Stop() in its own destructor, before those services go. Not thread-safe; one per test (or binary).
class ServiceStack {
 public:
  explicit ServiceStack(const std::string& name, int cpu_slots = 4) {
    dir = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "jobs");
    store = std::move(*store::Store::Open(store::Options{.path = (dir / "stoke.db").string(), .synchronous_full = false}));
    launch::LocalLauncherOptions lo;
    lo.supervisor_exe = "/bin/true";
    lo.cgroup_root = "none";
    launcher = std::move(*launch::LocalLauncher::Create(lo));
    auth = std::make_unique<service::AuthService>(*store, clock);
    pool.cpu_slots = cpu_slots;
    pool.cpu_cores = {0};
    service::JobRunner::Options ro;
    ro.data_dir = dir.string();
    ro.pool = pool;
    runner = std::make_unique<service::JobRunner>(service::JobRunner::Deps{*store, *launcher, *auth, clock}, ro);
    jobs = std::make_unique<service::JobService>(service::JobService::Deps{*store, *runner, clock}, dir.string(), pool);
    admin_token = auth->CreateToken("admin", true)->secret;
  }
  virtual ~ServiceStack() {
    Stop();
    jobs.reset();
    runner.reset();
    std::filesystem::remove_all(dir);
  }

  // Adds the routes, binds a free port and serves on a thread until Stop().
  void Serve(std::vector<Route> routes, int threads = 8) {
    RestServer::Options ho;
    ho.port = 0;
    ho.threads = threads;
    server = std::make_unique<RestServer>(RestServer::Deps{*auth, *jobs, *runner, *store}, ho);
    server->AddRoutes(std::move(routes));
    port = *server->Bind();
    thread = std::thread([this] { server->Serve(); });
  }
  void Stop() {
    if (!server) return;
    server->Stop();
    thread.join();
    server.reset();
  }

  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    return c;
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }

  std::filesystem::path dir;
  SystemClock clock;
  service::PoolConfig pool;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<launch::LocalLauncher> launcher;
  std::unique_ptr<service::AuthService> auth;
  std::unique_ptr<service::JobRunner> runner;
  std::unique_ptr<service::JobService> jobs;
  std::unique_ptr<RestServer> server;
  std::thread thread;
  int port = 0;
  std::string admin_token;
};

}  // namespace stoke::api::testing
