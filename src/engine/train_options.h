#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "engine/lr_schedule.h"

namespace stoke::engine {

enum class LossKind { kCrossEntropy, kMse, kBceWithLogits, kModule };
enum class OptimizerKind { kSgd, kAdam, kAdamW };

struct DataOptions {
  std::string x_key = "x";           // array/tensor name inside .npz / torch.save'd dict
  std::string y_key = "y";
  std::string label_column = "label";  // CSV: the label column; all others are features
  std::string labels_path;           // .npy data: labels in a second .npy file
};

// Everything one training job needs; the hyperparameters an HPO run tunes live here too.
struct TrainOptions {
  std::string model_path;  // TorchScript module (torch.jit.script(m).save(...))
  std::string train_path;  // .npz, .npy (+ data.labels_path), .pt (torch.save'd dict) or .csv
  std::string val_path;    // optional, same formats
  DataOptions data;
  std::string output_dir;  // checkpoint.pt, model.pt (final TorchScript), metrics.jsonl

  LossKind loss = LossKind::kCrossEntropy;
  OptimizerKind optimizer = OptimizerKind::kSgd;
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  LrSchedule lr;

  int64_t global_batch = 64;
  int64_t max_micro_batch = 0;  // 0: the whole per-rank slice at once
  int64_t epochs = 1;
  int64_t max_steps = 0;  // 0: epochs * steps_per_epoch
  uint64_t seed = 0;
  bool shuffle = true;
  int threads = 0;  // torch intra-op threads; 0 keeps torch's default
  bool resume = false;
  bool jit_optimize = false;  // TorchScript's optimizing executor (process-wide switch)  // continue from output_dir/checkpoint.pt when present

  int64_t bucket_bytes = 25 << 20;
  bool overlap_backward = true;  // start all-reducing a bucket as soon as backward has filled it
  std::chrono::milliseconds collective_timeout{10000};
  // Elastic: after a stop request (TrainerDeps::stop) this worker trains on until the coordinator
  // publishes a generation without it; when none comes within this time it stops anyway.
  std::chrono::milliseconds leave_timeout{5000};
  std::string audit_dir;  // when set, each worker logs the samples it contributes (tests)
};

Result<LossKind> ParseLossKind(std::string_view name);
Result<OptimizerKind> ParseOptimizerKind(std::string_view name);

}  // namespace stoke::engine
