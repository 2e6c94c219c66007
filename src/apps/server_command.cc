#include "apps/server_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "api/experiment_json.h"
#include "api/experiment_routes.h"
#include "api/kv_routes.h"
#include "api/rest_server.h"
#include "common/executables.h"
#include "deploy/deploy_routes.h"
#include "deploy/deployment_service.h"
#include "wmla/wmla_routes.h"
#include "launch/gpu_discovery.h"
#include "launch/host_resources.h"
#include "launch/local_launcher.h"
#include "service/auth_service.h"
#include "service/experiment_service.h"
#include "service/job_runner.h"
#include "service/job_service.h"
#include "service/rendezvous_registry.h"
#include "store/store.h"

namespace stoke::apps {

namespace fs = std::filesystem;

namespace {

api::RestServer* g_server = nullptr;

void HandleStopSignal(int) {
  if (g_server != nullptr) g_server->Stop();
}

// Applies keys of the YAML file that the command line did not set.
Status LoadConfigFile(ServerSettings& s, const CLI::App& cmd) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(s.config_file);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("cannot read config " + s.config_file + ": " + e.what(), "config");
  }
  if (!root.IsMap()) return Status::InvalidArgument("config " + s.config_file + " must be a YAML mapping", "config");
  auto from_flag = [&](const char* flag) { return cmd.count(flag) > 0; };
  try {
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "bind") { if (!from_flag("--bind")) s.bind = v.as<std::string>(); }
      else if (key == "port") { if (!from_flag("--port")) s.port = v.as<int>(); }
      else if (key == "data_dir") { if (!from_flag("--data-dir")) s.data_dir = v.as<std::string>(); }
      else if (key == "cpu_slots") { if (!from_flag("--cpu-slots")) s.cpu_slots = v.as<int>(); }
      else if (key == "gpus") { if (!from_flag("--gpus")) s.gpus = v.as<std::string>(); }
      else if (key == "tls_cert") { if (!from_flag("--tls-cert")) s.tls_cert = v.as<std::string>(); }
      else if (key == "tls_key") { if (!from_flag("--tls-key")) s.tls_key = v.as<std::string>(); }
      else if (key == "kill_grace_s") { if (!from_flag("--kill-grace")) s.kill_grace_s = v.as<int>(); }
      else if (key == "web_root") { if (!from_flag("--web-root")) s.web_root = v.as<std::string>(); }
      else if (key == "cgroup_root") { if (!from_flag("--cgroup-root")) s.cgroup_root = v.as<std::string>(); }
      else return Status::InvalidArgument("unknown key \"" + key + "\" in " + s.config_file, key);
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("bad value in " + s.config_file + ": " + e.what(), "config");
  }
  return Status::Ok();
}

std::string SelfExe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("stoke") : p.string();
}

std::string DefaultWebRoot() {
  fs::path exe = SelfExe();
  for (const fs::path& candidate : {exe.parent_path() / "../share/stoke/web", exe.parent_path() / "../../../web/dist",
                                    exe.parent_path() / "../../web/dist"}) {
    std::error_code ec;
    if (fs::exists(candidate / "index.html", ec)) return fs::weakly_canonical(candidate, ec).string();
  }
  return {};
}

Result<service::PoolConfig> BuildPool(const ServerSettings& s) {
  service::PoolConfig pool;
  pool.cpu_cores = launch::AllowedCpus();
  if (pool.cpu_cores.empty()) pool.cpu_cores.push_back(0);
  pool.cpu_slots = s.cpu_slots > 0 ? s.cpu_slots : static_cast<int>(pool.cpu_cores.size());
  pool.memory_bytes = launch::DetectMemoryBytes();
  auto found = launch::DiscoverGpus();
  if (!found.note.empty()) spdlog::info("gpus: {}", found.note);
  STOKE_ASSIGN_OR_RETURN(std::vector<int> use, launch::ParseGpuSelection(s.gpus, found));
  for (int index : use) {
    service::GpuDevice dev;
    dev.index = index;
    for (const auto& g : found.gpus) {
      if (g.index == index) {
        dev.name = g.name;
        dev.memory_bytes = g.memory_bytes;
      }
    }
    pool.gpus.push_back(dev);
  }
  return pool;
}

Status WriteAdminToken(const std::string& path, const std::string& secret) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status::Internal("cannot write " + tmp);
    out << secret << "\n";
  }
  ::chmod(tmp.c_str(), 0600);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::Internal("cannot write " + path);
  return Status::Ok();
}

int RunServer(ServerSettings s, const CLI::App& cmd) {
  if (!s.config_file.empty()) {
    if (Status st = LoadConfigFile(s, cmd); !st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 2;
    }
  }
  if (s.port < 0 || s.port > 65535) {
    std::cerr << "error: --port must be 0..65535\n";
    return 2;
  }
  if (s.tls_cert.empty() != s.tls_key.empty()) {
    std::cerr << "error: --tls-cert and --tls-key go together\n";
    return 2;
  }
  std::error_code ec;
  fs::create_directories(s.data_dir + "/jobs", ec);
  if (ec) {
    std::cerr << "error: cannot create data dir " << s.data_dir << ": " << ec.message() << "\n";
    return 1;
  }
  s.data_dir = fs::canonical(s.data_dir).string();

  auto pool = BuildPool(s);
  if (!pool) {
    std::cerr << "error: " << pool.error().message() << "\n";
    return 2;
  }
  store::Options store_options;
  store_options.path = s.data_dir + "/stoke.db";
  auto store = store::Store::Open(store_options);
  if (!store) {
    std::cerr << "error: cannot open the store: " << store.error().ToString() << "\n";
    return 1;
  }
  launch::LocalLauncherOptions launcher_options = launch::DefaultLocalLauncherOptions();
  launcher_options.cgroup_root = s.cgroup_root;
  auto launcher = launch::LocalLauncher::Create(launcher_options);
  if (!launcher) {
    std::cerr << "error: " << launcher.error().ToString() << "\n";
    return 1;
  }
  SystemClock clock;
  service::AuthService auth(**store, clock);
  auto admin_secret = auth.BootstrapAdmin();
  if (!admin_secret) {
    std::cerr << "error: " << admin_secret.error().ToString() << "\n";
    return 1;
  }
  std::string token_path = s.data_dir + "/admin.token";
  if (!admin_secret->empty()) {
    if (Status st = WriteAdminToken(token_path, *admin_secret); !st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 1;
    }
  }

  if (s.web_root.empty()) s.web_root = DefaultWebRoot();
  api::RestServer::Options http_options;
  http_options.bind = s.bind;
  http_options.port = s.port;
  http_options.tls_cert = s.tls_cert;
  http_options.tls_key = s.tls_key;
  http_options.web_root = s.web_root;

  // The runner needs the API URL for $STOKE_API, which needs the bound port: bind first.
  service::JobRunner::Options runner_options;
  runner_options.data_dir = s.data_dir;
  runner_options.pool = *pool;
  runner_options.default_kill_grace_s = s.kill_grace_s;
  runner_options.worker_exe = FindStokeExecutable("stoke-worker", "STOKE_WORKER_BIN");
  service::RendezvousRegistry rendezvous(clock);
  service::JobRunner runner({**store, **launcher, auth, clock, &rendezvous}, runner_options);
  service::JobService jobs({**store, runner, clock}, s.data_dir, *pool);
  service::ExperimentService experiments({**store, jobs, clock, api::ParseExperimentSpecText}, s.data_dir);
  deploy::DeploymentService::Options deploy_options;
  deploy_options.data_dir = s.data_dir;
  deploy::DeploymentService deployments({**store, jobs, clock}, deploy_options);
  http_options.extra_metrics = [&deployments] { return deployments.PrometheusText(); };
  api::RestServer server({auth, jobs, runner, **store}, http_options);
  server.AddRoutes(api::ExperimentRoutes(experiments, jobs));
  server.AddRoutes(api::KvRoutes(rendezvous));
  server.AddRoutes(deploy::DeploymentRoutes(deployments));
  server.AddRoutes(wmla::WmlaRoutes({jobs, experiments, auth, **store, s.data_dir}));
  auto port = server.Bind();
  if (!port) {
    std::cerr << "error: " << port.error().message() << "\n";
    return 1;
  }
  std::string host = s.bind == "0.0.0.0" || s.bind == "::" ? "127.0.0.1" : s.bind;
  std::string scheme = s.tls_cert.empty() ? "http" : "https";
  std::string base = scheme + "://" + host + ":" + std::to_string(*port);
  runner.SetApiUrl(base + "/api/v1");
  if (Status st = runner.Start(); !st.ok()) {
    std::cerr << "error: " << st.ToString() << "\n";
    return 1;
  }
  if (Status st = experiments.Start(); !st.ok()) {
    std::cerr << "error: cannot load experiments: " << st.ToString() << "\n";
    return 1;
  }
  if (Status st = deployments.Start(); !st.ok()) {
    std::cerr << "error: cannot load deployments: " << st.ToString() << "\n";
    return 1;
  }

  std::cout << "stoke server listening on " << base << "\n";
  std::cout << "  data dir:  " << s.data_dir << "\n";
  std::cout << "  pool:      " << pool->cpu_slots << " CPU slot(s), " << pool->gpus.size() << " GPU(s)\n";
  std::cout << "  UI:        " << (s.web_root.empty() ? "not built (API only)" : base + "/") << "\n";
  if (!admin_secret->empty()) {
    std::cout << "  admin token (shown once, also in " << token_path << "):\n    " << *admin_secret << "\n";
  } else {
    std::cout << "  admin token: in " << token_path << "\n";
  }
  std::cout.flush();

  g_server = &server;
  std::signal(SIGTERM, HandleStopSignal);
  std::signal(SIGINT, HandleStopSignal);
  std::signal(SIGPIPE, SIG_IGN);
  server.Serve();
  g_server = nullptr;
  deployments.Stop();
  experiments.Stop();
  runner.Stop();
  spdlog::info("stoke server stopped; running jobs keep running and are re-attached at the next start");
  return 0;
}

}  // namespace

void RegisterServerCommand(CLI::App& app, ServerSettings& s, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("server", "Run the Stoke control plane (REST API, UI, scheduler, launcher)");
  cmd->add_option("--config", s.config_file, "YAML file with the same settings (keys: bind, port, data_dir, ...)");
  cmd->add_option("--bind", s.bind, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", s.port, "Port (0 = any free port)")->capture_default_str();
  cmd->add_option("--data-dir", s.data_dir, "Store, job directories and logs")->capture_default_str();
  cmd->add_option("--cpu-slots", s.cpu_slots, "CPU slots in the pool (default: one per core)");
  cmd->add_option("--gpus", s.gpus, "GPUs to use: auto | none | 0,1,...")->capture_default_str();
  cmd->add_option("--tls-cert", s.tls_cert, "PEM certificate: serve HTTPS");
  cmd->add_option("--tls-key", s.tls_key, "PEM private key for --tls-cert");
  cmd->add_option("--kill-grace", s.kill_grace_s, "Seconds between SIGTERM and SIGKILL when killing a job")
      ->capture_default_str();
  cmd->add_option("--web-root", s.web_root, "Directory of the web UI assets");
  cmd->add_option("--cgroup-root", s.cgroup_root, "cgroup v2 directory for memory limits ('none' = rlimit only)");
  cmd->callback([&s, &exit_code, cmd] { exit_code = RunServer(s, *cmd); });
}

}  // namespace stoke::apps
