#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/train_options.h"

namespace stoke::engine {

struct EvalTotals {
  double loss_sum = 0;  // sum of per-sample losses
  int64_t correct = 0;  // classification losses only
  int64_t count = 0;
};

// A TorchScript module in training, with its loss and optimizer. Knows nothing about ranks.
// Not thread-safe.
class Model {
 public:
  static Result<std::unique_ptr<Model>> Load(const TrainOptions& options);
  ~Model();

  // Adds d(scale * mean_loss(x, y))/dparams into the gradients; returns the unscaled mean loss.
  Result<double> ForwardBackward(const at::Tensor& x, const at::Tensor& y, double scale);
  // Sums over (x, y) in chunks of `batch`, without gradients.
  Result<EvalTotals> Evaluate(const at::Tensor& x, const at::Tensor& y, int64_t batch);

  // Trainable parameters in module order (the order gradients are bucketed in).
  const std::vector<at::Tensor>& parameters() const;
  // Gradients of parameters(); zeros where backward did not reach.
  std::vector<at::Tensor> Gradients();
  void ZeroGrad();
  // Called inside backward with parameter i's gradient of this pass, before it is added to the
  // parameter's .grad (which still holds earlier micro-batches' sum). Null disarms it. The
  // trainer uses it to start all-reducing gradient buckets while backward is still running.
  void SetGradientHook(std::function<void(size_t param_index, const at::Tensor& grad)> hook);
  Status OptimizerStep(double lr);

  // Parameters + optimizer state + step, as bytes (broadcast to newcomers, checkpoints).
  Result<std::string> SaveState(int64_t step);
  // Restores SaveState's bytes; returns the step stored with them.
  Result<int64_t> LoadState(const std::string& bytes);
  // Writes the trained module as TorchScript (loadable by Python's torch.jit.load).
  Status SaveTorchScript(const std::string& path);

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Runs `fn`, turning torch exceptions into a Status (c10 errors are kInternal).
Status TorchCall(const std::function<void()>& fn, std::string_view what);

}  // namespace stoke::engine
