#pragma once

#include <string>

#include "common/status.h"
#include "serving/dynamic_batcher.h"

namespace stoke::serving {

struct TorchRunnerOptions {
  std::string model_path;     // a TorchScript module (torch.jit.script(m).save(...))
  std::string device = "cpu"; // "cpu", "cuda", "cuda:1"
  int threads = 0;            // intra-op threads; 0 = libtorch's default
};

// Loads the module once and returns the batcher's run function: float32 input [n, ...] on the
// device, forward under inference mode, the output (a tensor, or the first tensor of a tuple or
// list) back as float32 on the CPU. Errors the model raises on the input (wrong shape, ...) become
// InvalidArgument naming "instances". The only translation unit that includes libtorch.
// The returned function is called by one batcher thread at a time.
Result<DynamicBatcher::RunBatchFn> LoadTorchRunner(const TorchRunnerOptions& options);

}  // namespace stoke::serving
