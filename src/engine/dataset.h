#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "common/status.h"
#include "engine/train_options.h"

namespace stoke::engine {

// Features and labels of one split, in memory. x is float32 (N, ...); y is int64 (N) for class
// labels or float32 for regression/binary targets. Immutable after loading; safe to share.
struct Dataset {
  at::Tensor x;
  at::Tensor y;
  int64_t size() const;
};

// Loads .npz/.npy, a torch.save'd dict of tensors (.pt/.pth) or CSV (header row, named label
// column). Labels become int64 for kClass, float32 for kFloat, and keep integer-ness for kAuto.
enum class LabelType { kClass, kFloat, kAuto };
Result<Dataset> LoadDataset(const std::string& path, const DataOptions& options, LabelType labels);

}  // namespace stoke::engine
