#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <httplib.h>

#include "api/experiment_json.h"
#include "api/experiment_routes.h"
#include "api/rest_server.h"
#include "launch/local_launcher.h"
#include "service/auth_service.h"
#include "service/experiment_service.h"
#include "service/job_runner.h"
#include "service/job_service.h"
#include "store/store.h"
#include "wmla/wmla_routes.h"

namespace stoke::wmla::testing {

// A real REST server with the WMLA routes, in-process on a free loopback port. The job runner and
// the experiment loop are not started: jobs stay QUEUED, which is what route tests need to look at.
// Not thread-safe; one per test.
class TestServer {
 public:
  explicit TestServer(const std::string& name) {
    dir = std::filesystem::temp_directory_path() / ("wmla-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "jobs");
    store = std::move(*store::Store::Open(store::Options{.path = (dir / "stoke.db").string(), .synchronous_full = false}));
    launch::LocalLauncherOptions lo;
    lo.supervisor_exe = "/bin/true";
    lo.cgroup_root = "none";
    launcher = std::move(*launch::LocalLauncher::Create(lo));
    auth = std::make_unique<service::AuthService>(*store, clock);
    service::PoolConfig pool;
    pool.cpu_slots = 4;
    pool.cpu_cores = {0};
    service::JobRunner::Options ro;
    ro.data_dir = dir.string();
    ro.pool = pool;
    runner = std::make_unique<service::JobRunner>(service::JobRunner::Deps{*store, *launcher, *auth, clock}, ro);
    jobs = std::make_unique<service::JobService>(service::JobService::Deps{*store, *runner, clock}, dir.string(), pool);
    experiments = std::make_unique<service::ExperimentService>(
        service::ExperimentService::Deps{*store, *jobs, clock, api::ParseExperimentSpecText}, dir.string());
    api::RestServer::Options ho;
    ho.port = 0;
    ho.threads = 8;
    server = std::make_unique<api::RestServer>(api::RestServer::Deps{*auth, *jobs, *runner, *store}, ho);
    server->AddRoutes(api::ExperimentRoutes(*experiments, *jobs));
    server->AddRoutes(WmlaRoutes(WmlaDeps{*jobs, *experiments, *auth, *store, dir.string()}));
    port = *server->Bind();
    thread = std::thread([this] { server->Serve(); });
    admin_token = auth->CreateToken("admin", true)->secret;
  }
  ~TestServer() {
    server->Stop();
    thread.join();
    server.reset();
    experiments.reset();
    jobs.reset();
    runner.reset();
    std::filesystem::remove_all(dir);
  }

  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    return c;
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }

  std::filesystem::path dir;
  SystemClock clock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<launch::LocalLauncher> launcher;
  std::unique_ptr<service::AuthService> auth;
  std::unique_ptr<service::JobRunner> runner;
  std::unique_ptr<service::JobService> jobs;
  std::unique_ptr<service::ExperimentService> experiments;
  std::unique_ptr<api::RestServer> server;
  std::thread thread;
  int port = 0;
  std::string admin_token;
};

}  // namespace stoke::wmla::testing
