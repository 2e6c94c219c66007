#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <set>
#include <string>

#include "engine/train_options.h"

namespace stoke::engine::testing {

// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes a small TorchScript MLP (features -> 16 -> classes) with fixed initial weights,
// and a `loss(x, y)` method; what a user would export from Python.
void WriteTinyModel(const std::string& path, int64_t features, int64_t classes, uint64_t seed);
// Writes separable Gaussian blobs as .npz (x float32 (n, features), y int64 (n)).
void WriteBlobs(const std::string& path, int64_t n, int64_t features, int64_t classes, uint64_t noise_seed);
// Options for the tiny model on blobs in `dir` (files model.pt, train.npz, val.npz created).
TrainOptions TinyJob(const TempDir& dir, int64_t train_size = 240);
// All trainable parameters of a TorchScript file, flattened and concatenated.
at::Tensor FlatParameters(const std::string& model_path);
// max |a-b| / max(|b|)
double RelativeDifference(const at::Tensor& a, const at::Tensor& b);

}  // namespace stoke::engine::testing

namespace stoke::engine::testing {

struct AuditReport {
  bool ok = false;
  std::string problem;
  std::set<int> world_sizes;  // world sizes that committed steps
  int64_t redone_steps = 0;   // steps committed in more than one generation or contributed but lost
};
// Checks the per-worker sample logs (TrainOptions::audit_dir) of a finished job: every step in
// [0, total_steps) was committed, the contributions of the generation that committed it last
// come from ranks 0..world-1 exactly once and together form the step's global batch, and each
// epoch saw every sample exactly once.
AuditReport CheckAudit(const std::string& audit_dir, int64_t dataset_size, int64_t global_batch, uint64_t seed,
                       int64_t total_steps);

}  // namespace stoke::engine::testing
