#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"

namespace stoke::engine {

struct ShardPlanOptions {
  int64_t dataset_size = 0;
  int64_t global_batch = 1;
  uint64_t seed = 0;
  bool shuffle = true;
};

// Where a global step falls. The cursor is the global sample index within the epoch.
struct StepPosition {
  int64_t epoch = 0;
  int64_t step_in_epoch = 0;
  int64_t cursor = 0;
};

// The data order of a job as a pure function: epoch order = f(seed, epoch); step k of an epoch
// covers order[k*B, min((k+1)*B, N)) (the last step of an epoch may be short, so every sample is
// seen exactly once per epoch); each rank takes a contiguous slice of that global batch, so the
// global batch does not depend on the world size. Not thread-safe (caches one epoch's order).
class ShardPlan {
 public:
  static Result<ShardPlan> Create(ShardPlanOptions options);

  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  StepPosition Position(int64_t global_step) const;
  // Samples in the global batch of `global_step` (B, or fewer at an epoch's end).
  int64_t StepBatchSize(int64_t global_step) const;
  // The permutation of [0, N) used in `epoch`.
  std::vector<int64_t> EpochOrder(int64_t epoch) const;
  // Dataset indices that `rank` of `world` processes at `global_step`: a contiguous slice of the
  // step's global batch; the first (batch % world) ranks take one extra sample.
  std::vector<int64_t> RankSamples(int64_t global_step, int world, int rank) const;

 private:
  explicit ShardPlan(ShardPlanOptions options);
  const std::vector<int64_t>& CachedOrder(int64_t epoch) const;

  ShardPlanOptions options_;
  int64_t steps_per_epoch_ = 0;
  mutable int64_t cached_epoch_ = -1;
  mutable std::vector<int64_t> cached_order_;
};

// Splits `samples` into consecutive chunks of at most `max_micro_batch` (0: one chunk).
std::vector<std::vector<int64_t>> SplitMicroBatches(const std::vector<int64_t>& samples, int64_t max_micro_batch);

}  // namespace stoke::engine
