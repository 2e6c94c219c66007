// `stoke train` (an elastic training job) and `stoke scale` (force its number of workers).
#include <unistd.h>

#include <filesystem>

#include "cli/code_archive.h"
#include "cli/command_support.h"
#include "cli/train_request.h"

namespace stoke::cli::internal {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using EnvPtr = std::shared_ptr<const ClientEnvironment>;

// Packs the model and data files (hard links, or copies across file systems) as the code archive.
Result<std::string> PackUploads(const std::vector<UploadFile>& uploads) {
  std::error_code ec;
  fs::path staging = fs::temp_directory_path(ec) / ("stoke-train-" + std::to_string(::getpid()));
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) return Err(Status::Internal("cannot create " + staging.string() + ": " + ec.message()));
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{staging};
  for (const UploadFile& file : uploads) {
    fs::path target = staging / file.name;
    fs::create_hard_link(file.local_path, target, ec);
    if (ec) {
      ec.clear();
      fs::copy_file(file.local_path, target, ec);
      if (ec) return Err(Status::InvalidArgument("cannot read " + file.local_path + ": " + ec.message()));
    }
  }
  return PackCodeDirectory(staging.string());
}

struct TrainFlags {
  ConnectionFlags connection;
  TrainRequestOptions options;
};

void AddTrain(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<TrainFlags>();
  TrainRequestOptions& o = flags->options;
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a TorchScript model data-parallel on 1..N elastic workers: stoke train MODEL.pt --data TRAIN ...");
  cmd->add_option("model", o.model, "TorchScript model file (torch.jit.script(m).save(...))")->required();
  cmd->add_option("--data", o.data, "training data: .npz, .npy, .pt or .csv")->required();
  cmd->add_option("--val", o.val, "validation data, same formats");
  cmd->add_option("--workers", o.workers, "N, or MIN:MAX for an elastic job (default 1)");
  cmd->add_option("--min-wait", o.min_wait_s, "seconds the job may stay below MIN workers before it fails");
  cmd->add_option("--global-batch", o.global_batch, "samples per step over all workers (fixed as workers change)");
  cmd->add_option("--epochs", o.epochs);
  cmd->add_option("--max-steps", o.max_steps, "stop after this many steps");
  cmd->add_option("--lr", o.lr, "base learning rate");
  cmd->add_option("--momentum", o.momentum);
  cmd->add_option("--weight-decay", o.weight_decay);
  cmd->add_option("--optimizer", o.optimizer, "sgd | adam | adamw");
  cmd->add_option("--loss", o.loss, "cross_entropy | mse | bce_with_logits | module");
  cmd->add_option("--lr-schedule", o.lr_schedule, "constant | step | cosine");
  cmd->add_option("--seed", o.seed);
  cmd->add_option("--set", o.set, "any other training option KEY=VALUE (docs/api.md), repeatable")
      ->allow_extra_args(false);
  SubmitOptions& j = o.job;
  AddCommonJobFlags(*cmd, j, " per worker");
  cmd->add_option("--name", j.name, "job name (default: train-<model file>)");
  cmd->add_option("--dir", j.code_dir, "upload this directory; MODEL, --data and --val are paths inside it");
  AddConnectionFlags(*cmd, flags->connection);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    TrainRequest request = Unwrap(e, BuildTrainRequest(flags->options), kExitUsage);
    ApiClient client = Connect(e, flags->connection);
    const std::string code = flags->options.job.code_dir.empty() ? Unwrap(e, PackUploads(request.uploads))
                                                                  : Unwrap(e, PackCodeDirectory(flags->options.job.code_dir));
    json job = Unwrap(e, client.PostMultipart("/jobs", {{"spec", request.spec.dump(), "", "application/json"},
                                                        {"code", code, "code.tar.gz", "application/gzip"}}));
    ReportSubmitted(e, client, flags->connection, job, flags->options.job.wait);
  });
}

struct ScaleFlags {
  ConnectionFlags connection;
  int64_t id = 0;
  int workers = 0;
};

void AddScale(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<ScaleFlags>();
  CLI::App* cmd = app.add_subcommand("scale", "Force a running elastic job to N workers: stoke scale JOB --workers N");
  cmd->add_option("id", flags->id, "job id")->required();
  cmd->add_option("--workers", flags->workers, "the number of workers wanted (1..the job's workers.max)")
      ->required()
      ->check(CLI::PositiveNumber);
  AddConnectionFlags(*cmd, flags->connection);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, flags->connection);
    json job = Unwrap(e, client.Post(JobPath(flags->id, "/scale"), json{{"workers", flags->workers}}));
    if (flags->connection.json) {
      PrintJson(e, job);
      return;
    }
    size_t now = job.contains("worker_processes") ? job["worker_processes"].size() : 0;
    *e.out << "job " << flags->id << ": scaling from " << now << " to " << flags->workers << " worker(s)\n";
  });
}

}  // namespace

void RegisterTrainCommands(CLI::App& app, std::shared_ptr<const ClientEnvironment> env) {
  AddTrain(app, env);
  AddScale(app, env);
}

}  // namespace stoke::cli::internal
