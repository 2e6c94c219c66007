// stoke-worker: the libtorch side of Stoke. `stoke worker ...` execs it; tests and benchmarks
// run it directly.
//   stoke-worker train --model m.pt --data train.npz [--store tcp://host:port | http://server/api/v1/jobs/<id>] ...
//   stoke-worker rendezvous --port 29400 --max 4      (a store + coordinator for local jobs)
//   stoke-worker scale --store tcp://host:port --target 2
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "elastic/coordinator_runner.h"
#include "elastic/http_kv_store.h"
#include "elastic/keys.h"
#include "elastic/membership_client.h"
#include "elastic/prefix_kv_store.h"
#include "engine/tcp_kv_store.h"
#include "engine/trainer.h"

namespace {

using namespace stoke;
using namespace std::chrono_literals;

constexpr char kStoreForms[] = "store must be tcp://host:port or http(s)://server/api/v1/jobs/<id>";

// "tcp://host:port" -> (host, port).
Result<std::pair<std::string, int>> ParseStoreUrl(const std::string& url) {
  const std::string scheme = "tcp://";
  if (url.rfind(scheme, 0) != 0) return Err(Status::InvalidArgument(kStoreForms, "store"));
  std::string rest = url.substr(scheme.size());
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return Err(Status::InvalidArgument(kStoreForms, "store"));
  auto port = elastic::keys::ParseInt(rest.substr(colon + 1));
  if (!port.has_value()) return Err(Status::InvalidArgument("bad store port", "store"));
  return std::make_pair(rest.substr(0, colon), static_cast<int>(*port));
}

// The job's rendezvous store: a c10d TCPStore at tcp://host:port (`stoke-worker rendezvous`), or the
// Stoke server's store of the job at http(s)://server/api/v1/jobs/<id>, with the token in $STOKE_TOKEN.
Result<std::unique_ptr<elastic::KvStore>> OpenStore(const std::string& url, std::chrono::milliseconds timeout) {
  if (url.starts_with("http://") || url.starts_with("https://")) {
    const char* token = std::getenv("STOKE_TOKEN");
    if (token == nullptr || *token == '\0') {
      return Err(Status::Unauthenticated("--store " + url + " needs the job's token in $STOKE_TOKEN"));
    }
    STOKE_ASSIGN_OR_RETURN(auto http, elastic::HttpKvStore::Open(url, token));
    return std::unique_ptr<elastic::KvStore>(std::move(http));
  }
  STOKE_ASSIGN_OR_RETURN(auto addr, ParseStoreUrl(url));
  STOKE_ASSIGN_OR_RETURN(auto tcp, engine::TcpKvStore::Open(addr.first, addr.second, /*is_server=*/false, timeout));
  return std::unique_ptr<elastic::KvStore>(std::move(tcp));
}

int Fail(const Status& s) {
  spdlog::error("{}", s.ToString());
  return 1;
}

// SIGTERM / SIGINT: leave the job at the next step boundary. The handler only sets the flag.
std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");
constexpr int kExitStopped = 143;  // 128 + SIGTERM: stopped before the end, not released

void OnStopSignal(int) { g_stop_requested.store(true); }

void InstallStopHandler() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
}

struct TrainFlags {
  engine::TrainOptions o;
  std::string loss = "cross_entropy", optimizer = "sgd", schedule = "constant";
  double bucket_mb = 25;
  int64_t collective_timeout_ms = 10000;
  std::string store, job_prefix, gloo_host = "127.0.0.1";
  int64_t heartbeat_ms = 300;
  int64_t leave_timeout_ms = 5000;
};

void AddTrainFlags(CLI::App& app, TrainFlags& f) {
  auto& o = f.o;
  app.add_option("--model", o.model_path, "TorchScript module (torch.jit.script(m).save(...))")->required();
  app.add_option("--data", o.train_path, "training data: .npz, .npy (with --labels), .pt or .csv")->required();
  app.add_option("--val", o.val_path, "validation data, same formats");
  app.add_option("--labels", o.data.labels_path, "labels .npy when --data is a .npy");
  app.add_option("--x-key", o.data.x_key, "feature array/tensor name in .npz/.pt");
  app.add_option("--y-key", o.data.y_key, "label array/tensor name in .npz/.pt");
  app.add_option("--label-column", o.data.label_column, "CSV label column");
  app.add_option("--output", o.output_dir, "directory for metrics.jsonl, checkpoint.pt, model.pt");
  app.add_option("--loss", f.loss, "cross_entropy | mse | bce_with_logits | module");
  app.add_option("--optimizer", f.optimizer, "sgd | adam | adamw");
  app.add_option("--lr", o.lr.base_lr, "base learning rate");
  app.add_option("--momentum", o.momentum);
  app.add_flag("--nesterov", o.nesterov);
  app.add_option("--weight-decay", o.weight_decay);
  app.add_option("--beta1", o.beta1);
  app.add_option("--beta2", o.beta2);
  app.add_option("--eps", o.eps);
  app.add_option("--lr-schedule", f.schedule, "constant | step | cosine");
  app.add_option("--warmup-steps", o.lr.warmup_steps);
  app.add_option("--step-size", o.lr.step_size, "step schedule: steps between decays");
  app.add_option("--gamma", o.lr.gamma, "step schedule: decay factor");
  app.add_option("--min-lr", o.lr.min_lr, "cosine schedule floor");
  app.add_option("--global-batch", o.global_batch, "samples per step over all workers (fixed)");
  app.add_option("--max-micro-batch", o.max_micro_batch, "split a worker's slice into chunks (0: no limit)");
  app.add_option("--epochs", o.epochs);
  app.add_option("--max-steps", o.max_steps, "stop after this many steps (0: epochs)");
  app.add_option("--seed", o.seed);
  app.add_flag("!--no-shuffle", o.shuffle);
  app.add_option("--threads", o.threads, "torch intra-op threads (0: default)");
  app.add_flag("--resume", o.resume, "continue from <output>/checkpoint.pt");
  app.add_flag("--jit-optimize", o.jit_optimize, "use TorchScript's optimizing executor");
  app.add_option("--bucket-mb", f.bucket_mb, "gradient all-reduce bucket size");
  app.add_flag("!--no-overlap", o.overlap_backward, "all-reduce every bucket after backward instead of during it");
  app.add_option("--collective-timeout-ms", f.collective_timeout_ms, "a peer silent this long is lost");
  app.add_option("--audit-dir", o.audit_dir, "log contributed samples per step (tests)");
  app.add_option("--store", f.store,
                 "elastic: the job's rendezvous store, tcp://host:port or the server's "
                 "http(s)://server/api/v1/jobs/<id> (bearer token from $STOKE_TOKEN)");
  app.add_option("--job-prefix", f.job_prefix, "elastic: key prefix of this job in the store");
  app.add_option("--gloo-host", f.gloo_host, "elastic: address this worker's Gloo device binds to");
  app.add_option("--heartbeat-ms", f.heartbeat_ms);
  app.add_option("--leave-timeout-ms", f.leave_timeout_ms,
                 "elastic: on SIGTERM, stop anyway when the job does not release this worker within this time");
}

int RunTrain(TrainFlags& f) {
  auto loss = engine::ParseLossKind(f.loss);
  if (!loss.has_value()) return Fail(loss.error());
  auto optimizer = engine::ParseOptimizerKind(f.optimizer);
  if (!optimizer.has_value()) return Fail(optimizer.error());
  auto schedule = engine::ParseLrScheduleKind(f.schedule);
  if (!schedule.has_value()) return Fail(schedule.error());
  f.o.loss = *loss;
  f.o.optimizer = *optimizer;
  f.o.lr.kind = *schedule;
  f.o.bucket_bytes = static_cast<int64_t>(f.bucket_mb * (1 << 20));
  f.o.collective_timeout = std::chrono::milliseconds(f.collective_timeout_ms);
  f.o.leave_timeout = std::chrono::milliseconds(f.leave_timeout_ms);

  engine::TrainerDeps deps;
  deps.stop = &g_stop_requested;
  std::unique_ptr<elastic::KvStore> store;
  std::unique_ptr<elastic::PrefixKvStore> job;
  std::unique_ptr<elastic::MembershipClient> membership;
  if (!f.store.empty()) {
    auto opened = OpenStore(f.store, 30s);
    if (!opened.has_value()) return Fail(opened.error());
    store = std::move(*opened);
    job = std::make_unique<elastic::PrefixKvStore>(f.job_prefix, *store);
    elastic::MembershipClientOptions mo;
    mo.heartbeat_interval = std::chrono::milliseconds(f.heartbeat_ms);
    mo.info = "pid=" + std::to_string(::getpid());
    auto joined = elastic::MembershipClient::Join(*job, mo);
    if (!joined.has_value()) return Fail(joined.error());
    membership = std::move(*joined);
    deps.job_store = job.get();
    deps.membership = membership.get();
    deps.gloo.hostname = f.gloo_host;
    spdlog::info("joined as worker {}", membership->worker_id());
  }
  auto summary = engine::Train(f.o, deps);
  if (membership) (void)membership->Leave();
  if (!summary.has_value()) return Fail(summary.error());
  const bool released = summary->outcome == engine::TrainOutcome::kReleased;
  const bool stopped = summary->outcome == engine::TrainOutcome::kStopped;
  nlohmann::json out{{"outcome", stopped ? "stopped" : released ? "released" : "finished"},
                     {"steps", summary->steps},
                     {"steps_trained_here", summary->steps_trained_here},
                     {"regroups", summary->regroups},
                     {"failed_steps", summary->failed_steps},
                     {"overlapped_buckets", summary->overlapped_buckets},
                     {"val_loss", summary->val_loss},  // NaN (no validation) prints as null
                     {"val_accuracy", summary->val_accuracy},
                     {"train_seconds", summary->train_seconds},
                     {"regroup_ms", summary->regroup_ms}};
  std::cout << out.dump() << std::endl;
  if (stopped) {
    spdlog::warn("stopped at step {} without being released (exit {})", summary->steps, kExitStopped);
    return kExitStopped;
  }
  return 0;
}

int RunRendezvous(int port, const std::string& host, elastic::CoordinatorRunnerOptions options, int initial_target) {
  auto store = engine::TcpKvStore::Open(host, port, /*is_server=*/true, 30s);
  if (!store.has_value()) return Fail(store.error());
  if (initial_target > 0) (void)(*store)->Set(elastic::keys::kScaleTarget, std::to_string(initial_target));
  std::cout << "tcp://" << host << ":" << (*store)->port() << std::endl;
  SystemClock clock;
  elastic::CoordinatorRunner runner(**store, clock, options);
  runner.Start();
  while (!runner.job_done()) std::this_thread::sleep_for(100ms);
  runner.Stop();
  spdlog::info("job done after generation {}", runner.current().number);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // stdout carries the machine-readable summary; logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("stoke"));
  spdlog::set_pattern("[%H:%M:%S.%e] [worker %P] %v");
  CLI::App app{"stoke-worker: elastic data-parallel training on libtorch"};
  app.require_subcommand(1);

  TrainFlags train;
  CLI::App* train_cmd = app.add_subcommand("train", "train a TorchScript model (elastic with --store)");
  AddTrainFlags(*train_cmd, train);

  int port = 0, initial_target = 0;
  std::string host = "127.0.0.1";
  elastic::CoordinatorRunnerOptions rdzv;
  CLI::App* rdzv_cmd = app.add_subcommand("rendezvous", "host a job store and its membership coordinator");
  rdzv_cmd->add_option("--port", port, "0 picks a free port (printed)");
  rdzv_cmd->add_option("--host", host);
  rdzv_cmd->add_option("--min", rdzv.coordinator.min_workers);
  rdzv_cmd->add_option("--max", rdzv.coordinator.max_workers);
  rdzv_cmd->add_option("--target", initial_target, "initial world size (default: --max)");
  rdzv_cmd->add_option("--heartbeat-timeout-ms", rdzv.coordinator.heartbeat_timeout_ms);
  rdzv_cmd->add_option("--settle-ms", rdzv.coordinator.join_settle_ms);

  std::string scale_store;
  int scale_target = 1;
  CLI::App* scale_cmd = app.add_subcommand("scale", "set a job's desired world size");
  scale_cmd->add_option("--store", scale_store)->required();
  scale_cmd->add_option("--target", scale_target)->required();

  CLI11_PARSE(app, argc, argv);
  if (train_cmd->parsed()) {
    InstallStopHandler();
    return RunTrain(train);
  }
  if (rdzv_cmd->parsed()) return RunRendezvous(port, host, rdzv, initial_target);
  if (scale_cmd->parsed()) {
    auto store = OpenStore(scale_store, 10s);
    if (!store.has_value()) return Fail(store.error());
    Status s = (*store)->Set(elastic::keys::kScaleTarget, std::to_string(scale_target));
    return s.ok() ? 0 : Fail(s);
  }
  return 0;
}
