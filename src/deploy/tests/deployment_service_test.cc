// The deployment service against real jobs: SQLite store, job runner, local launcher with the
// supervisor, and replicas that are real ReplicaServer processes (tests/echo_replica_main.cc).
#include "deploy/deployment_service.h"

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "launch/local_launcher.h"
#include "service/auth_service.h"
#include "service/job_runner.h"

namespace stoke::deploy {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using service::Principal;

const Principal kAna{"ana", false, 0};
const Principal kBob{"bob", false, 0};

template <typename F>
bool WaitFor(F cond, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

class DeploymentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("stoke-deploy-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "jobs");
    store_ = std::move(*store::Store::Open({.path = (dir_ / "stoke.db").string(), .synchronous_full = false}));
    launch::LocalLauncherOptions lo;
    lo.supervisor_exe = STOKE_SUPERVISOR_EXE;
    lo.supervisor_args_prefix = {};
    lo.cgroup_root = "none";
    launcher_ = std::move(*launch::LocalLauncher::Create(lo));
    auth_ = std::make_unique<service::AuthService>(*store_, clock_);
    pool_.cpu_slots = 4;
    pool_.cpu_cores = {0};
    service::JobRunner::Options ro;
    ro.data_dir = dir_.string();
    ro.pool = pool_;
    ro.poll_interval_ms = 20;
    ro.api_url = "http://127.0.0.1:1/api/v1";
    runner_ = std::make_unique<service::JobRunner>(service::JobRunner::Deps{*store_, *launcher_, *auth_, clock_}, ro);
    ASSERT_TRUE(runner_->Start().ok());
    jobs_ = std::make_unique<service::JobService>(service::JobService::Deps{*store_, *runner_, clock_}, dir_.string(), pool_);
    StartService();
  }

  void StartService() {
    DeploymentService::Options o;
    o.data_dir = dir_.string();
    o.serve_binary = STOKE_ECHO_REPLICA;
    o.tick_ms = 50;
    o.wait_for_replica_ms = 20000;
    o.kill_grace_s = 1;
    o.autoscale = {.target_in_flight = 2, .window_ms = 500, .scale_down_after_ms = 1000};
    service_ = std::make_unique<DeploymentService>(DeploymentService::Deps{*store_, *jobs_, clock_}, o);
    ASSERT_TRUE(service_->Start().ok());
  }

  void TearDown() override {
    service_.reset();
    // Replica jobs run in their own sessions: end them before the runner goes.
    if (auto page = store_->ListUnfinishedJobs(); page) {
      for (const Job& j : *page) {
        if (j.pid > 0) ::kill(-static_cast<pid_t>(j.pid), SIGKILL);
      }
    }
    runner_->Stop();
    fs::remove_all(dir_);
  }

  std::string Model(const std::string& name, double scale, int hold_ms = 0) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << "PK\x03\x04 scale=" << scale << " hold_ms=" << hold_ms;
    return path;
  }

  DeploymentSpec Spec(const std::string& name, int min = 1, int max = 1) {
    DeploymentSpec s;
    s.name = name;
    s.replicas = {min, max};
    s.batching = {8, 2};
    return s;
  }

  int Ready(const std::string& name) {
    auto v = service_->Get(kAna, name);
    return v ? v->ready() : -1;
  }

  // {"instances":[[a, b]]} scored: returns the prediction or NaN.
  double Score(const std::string& name, double a, double b, int* status = nullptr) {
    auto r = service_->Predict(kAna, name, R"({"instances":[[)" + std::to_string(a) + "," + std::to_string(b) + "]]}");
    if (!r) return std::nan("");
    if (status) *status = r->status;
    if (r->status != 200) return std::nan("");
    return json::parse(r->body)["predictions"][0].get<double>();
  }

  fs::path dir_;
  SystemClock clock_;
  service::PoolConfig pool_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<launch::LocalLauncher> launcher_;
  std::unique_ptr<service::AuthService> auth_;
  std::unique_ptr<service::JobRunner> runner_;
  std::unique_ptr<service::JobService> jobs_;
  std::unique_ptr<DeploymentService> service_;
};

TEST_F(DeploymentServiceTest, DeployScoreAndDelete) {
  auto created = service_->Create(kAna, Spec("sum"), Model("m.pt", 2));
  ASSERT_TRUE(created.has_value()) << created.error().ToString();
  EXPECT_EQ(created->replicas.size(), 1u);
  EXPECT_EQ(Score("sum", 1, 2), 6.0);  // waits for the replica to be ready
  EXPECT_EQ(Ready("sum"), 1);
  // The replica is a job of the owner that holds a pool slot.
  JobId replica = created->replicas[0].job_id;
  auto job = jobs_->Get(kAna, replica);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->state, JobState::kRunning);
  EXPECT_EQ(job->spec.name, "deploy-sum-v1");
  // Persisted.
  auto stored = store_->Get("deployments", "sum");
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ(DecodeDeployment(**stored)->replicas.size(), 1u);
  // Metrics text names the deployment.
  EXPECT_NE(service_->PrometheusText().find("stoke_deployment_requests_total{deployment=\"sum\",outcome=\"ok\"} 1"),
            std::string::npos)
      << service_->PrometheusText();

  ASSERT_TRUE(service_->Delete(kAna, "sum").ok());
  EXPECT_EQ(service_->Get(kAna, "sum").error().code(), StatusCode::kNotFound);
  EXPECT_FALSE(store_->Get("deployments", "sum")->has_value());
  EXPECT_TRUE(WaitFor([&] { return IsTerminal(jobs_->Get(kAna, replica)->state); }, 10s));
}

TEST_F(DeploymentServiceTest, BadRequestsAreRefusedWithTheirField) {
  auto dup_model = Model("m.pt", 1);
  std::string junk = (dir_ / "junk.pt").string();
  std::ofstream(junk) << "not a model";
  auto not_model = service_->Create(kAna, Spec("a"), junk);
  ASSERT_FALSE(not_model.has_value());
  EXPECT_EQ(not_model.error().field(), "model");

  DeploymentSpec too_big = Spec("b");
  too_big.resources.cpus = 64;
  auto big = service_->Create(kAna, too_big, dup_model);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().field(), "resources.cpus") << big.error().ToString();
  EXPECT_FALSE(store_->Get("deployments", "b")->has_value());

  DeploymentSpec from_job = Spec("c");
  from_job.model = {999, "model.pt"};
  auto no_job = service_->Create(kAna, from_job, std::nullopt);
  ASSERT_FALSE(no_job.has_value());
  EXPECT_EQ(no_job.error().code(), StatusCode::kNotFound);

  ASSERT_TRUE(service_->Create(kAna, Spec("d"), dup_model).has_value());
  EXPECT_EQ(service_->Create(kAna, Spec("d"), dup_model).error().code(), StatusCode::kAlreadyExists);
  // Another user sees nothing of it.
  EXPECT_EQ(service_->Get(kBob, "d").error().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->Predict(kBob, "d", "{}").error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->List(kBob)->empty());
  EXPECT_EQ(service_->Predict(kAna, "nope", "{}").error().code(), StatusCode::kNotFound);
  // A bad body reaches the replica and comes back as its 400; the replica keeps serving.
  auto bad = service_->Predict(kAna, "d", R"({"instances":[["x"]]})");
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("instances[0][0]"), std::string::npos) << bad->body;
  EXPECT_EQ(Score("d", 1, 1), 2.0);
}

TEST_F(DeploymentServiceTest, ModelFromAJobResult) {
  JobSpec spec;
  spec.argv = {"/bin/sh", "-c", "printf 'PK\\003\\004 scale=5' > \"$RESULT_DIR/model.pt\""};
  spec.hparams_json = "{}";
  auto job = jobs_->Submit(kAna, spec, std::nullopt);
  ASSERT_TRUE(job.has_value()) << job.error().ToString();
  ASSERT_TRUE(WaitFor([&] { return IsTerminal(jobs_->Get(kAna, job->id)->state); }, 20s));
  DeploymentSpec s = Spec("fromjob");
  s.model = {job->id, "model.pt"};
  ASSERT_TRUE(service_->Create(kAna, s, std::nullopt).has_value());
  EXPECT_EQ(Score("fromjob", 1, 1), 10.0);
  DeploymentSpec escape = Spec("escape");
  escape.model = {job->id, "../hparams.json"};
  EXPECT_EQ(service_->Create(kAna, escape, std::nullopt).error().field(), "model.path");
  DeploymentSpec missing = Spec("missing");
  missing.model = {job->id, "nope.pt"};
  EXPECT_EQ(service_->Create(kAna, missing, std::nullopt).error().field(), "model.path");
  // Bob cannot deploy Ana's job.
  DeploymentSpec theft = Spec("theft");
  theft.model = {job->id, "model.pt"};
  EXPECT_EQ(service_->Create(kBob, theft, std::nullopt).error().code(), StatusCode::kNotFound);
}

TEST_F(DeploymentServiceTest, ScalesUpUnderLoadAndBackDownWhenIdle) {
  ASSERT_TRUE(service_->Create(kAna, Spec("load", 1, 3), Model("m.pt", 1, 30)).has_value());
  ASSERT_EQ(Score("load", 1, 1), 2.0);
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 12; ++i) {
    clients.emplace_back([&] {
      while (!stop) {
        int status = 0;
        if (Score("load", 2, 3, &status) == 5.0) ++ok;
        else ++failed;
      }
    });
  }
  bool scaled_up = WaitFor([&] { return Ready("load") == 3; }, 30s);
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_TRUE(scaled_up) << "ready: " << Ready("load");
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 0);
  // Idle: back to min, and the freed replicas' jobs end (their pool slots come back).
  ASSERT_TRUE(WaitFor([&] { return service_->Get(kAna, "load")->replicas.size() == 1; }, 30s));
  EXPECT_TRUE(WaitFor([&] { return runner_->Snapshot().running.size() == 1; }, 15s));
}

TEST_F(DeploymentServiceTest, KilledReplicaIsReplacedAndOthersServe) {
  ASSERT_TRUE(service_->Create(kAna, Spec("ha", 2, 2), Model("m.pt", 1, 5)).has_value());
  ASSERT_TRUE(WaitFor([&] { return Ready("ha") == 2; }, 30s));
  auto before = service_->Get(kAna, "ha")->replicas;
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      while (!stop) {
        if (Score("ha", 1, 2) == 3.0) ++ok;
        else ++failed;
      }
    });
  }
  std::this_thread::sleep_for(300ms);
  auto victim = jobs_->Get(kAna, before[0].job_id);
  ASSERT_TRUE(victim.has_value());
  ::kill(-static_cast<pid_t>(victim->pid), SIGKILL);
  int ok_at_kill = ok.load();
  bool replaced = WaitFor([&] {
    auto v = service_->Get(kAna, "ha");
    if (!v || v->ready() != 2) return false;
    for (const auto& r : v->replicas) if (r.job_id == before[0].job_id) return false;
    return true;
  }, 30s);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_TRUE(replaced);
  EXPECT_GT(ok.load(), ok_at_kill);
  // The router retries a dead replica's requests on the other one: at most a handful fail.
  EXPECT_LE(failed.load(), 4);
}

TEST_F(DeploymentServiceTest, NewVersionRollsOverWithoutFailedRequests) {
  ASSERT_TRUE(service_->Create(kAna, Spec("roll"), Model("v1.pt", 1, 2)).has_value());
  ASSERT_EQ(Score("roll", 1, 1), 2.0);
  std::atomic<bool> stop{false};
  std::atomic<int> v1{0}, v2{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back([&] {
      while (!stop) {
        double y = Score("roll", 1, 1);
        if (y == 2.0) ++v1;
        else if (y == 20.0) ++v2;
        else ++failed;
      }
    });
  }
  std::this_thread::sleep_for(200ms);
  DeploymentUpdate u;
  u.uploaded_model = Model("v2.pt", 10, 2);
  u.uploaded_name = "v2.pt";
  auto updated = service_->Update(kAna, "roll", u);
  ASSERT_TRUE(updated.has_value()) << updated.error().ToString();
  EXPECT_EQ(updated->deployment.version, 2);
  bool switched = WaitFor([&] {
    auto v = service_->Get(kAna, "roll");
    return v && v->replicas.size() == 1 && v->replicas[0].version == 2 && v->ready() == 1;
  }, 30s);
  std::this_thread::sleep_for(200ms);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_TRUE(switched);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(v1.load(), 0);
  EXPECT_GT(v2.load(), 0);
  EXPECT_EQ(Score("roll", 1, 1), 20.0);
}

TEST_F(DeploymentServiceTest, RestartedServiceReattachesReplicas) {
  auto created = service_->Create(kAna, Spec("keep"), Model("m.pt", 3));
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(Score("keep", 1, 1), 6.0);
  JobId replica = created->replicas[0].job_id;
  service_.reset();
  StartService();
  EXPECT_EQ(Score("keep", 2, 2), 12.0);
  auto v = service_->Get(kAna, "keep");
  ASSERT_TRUE(v.has_value());
  ASSERT_EQ(v->replicas.size(), 1u);
  EXPECT_EQ(v->replicas[0].job_id, replica);  // the same process, not a new one
}

TEST_F(DeploymentServiceTest, ReplicaRangeChangeNeedsNoNewVersion) {
  ASSERT_TRUE(service_->Create(kAna, Spec("range"), Model("m.pt", 1)).has_value());
  DeploymentUpdate u;
  u.replicas = ReplicaRange{2, 2};
  auto updated = service_->Update(kAna, "range", u);
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(updated->deployment.version, 1);
  EXPECT_TRUE(WaitFor([&] { return Ready("range") == 2; }, 30s));
  DeploymentUpdate bad;
  bad.replicas = ReplicaRange{3, 2};
  EXPECT_EQ(service_->Update(kAna, "range", bad).error().field(), "replicas.min");
}

}  // namespace
}  // namespace stoke::deploy
