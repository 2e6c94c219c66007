#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/job.h"
#include "sched/amount.h"
#include "sched/scheduling_input.h"

namespace stoke::sched {

// Which CPU slots and GPUs of a pool are free, and how much memory, during one scheduling cycle;
// picks slots deterministically. Not thread-safe (one cycle, one thread).
class PoolState {
 public:
  explicit PoolState(const Pool& pool);

  bool accounts_memory() const { return memory_total_ > 0; }
  Amount Capacity() const;
  Amount Free() const;

  // What `units` units of `per_unit` take from this pool (memory is 0 when the pool does not account it).
  Amount Need(const Resources& per_unit, int64_t units) const;
  // What an existing unit holds: its slot counts plus `memory_bytes` when memory is accounted.
  Amount Held(const Allocation& unit, int64_t memory_bytes) const;

  // True when every index of `unit` exists in the pool and is free.
  bool IsFree(const Allocation& unit) const;
  // REQUIRES: IsFree(unit).
  void MarkUsed(const Allocation& unit, int64_t memory_bytes);
  // REQUIRES: `unit` was marked used or taken.
  void Release(const Allocation& unit, int64_t memory_bytes);

  // Takes one unit of `per_unit`: the lowest-indexed run of contiguous free CPU slots that is long
  // enough (else the lowest-indexed free slots), and the lowest free GPU device indexes.
  // Returns nullopt and takes nothing when the unit does not fit.
  std::optional<Allocation> TakeUnit(const Resources& per_unit);

 private:
  int GpuPosition(int device) const;  // -1 when not in the pool
  std::vector<int> PickCpus(int count) const;

  std::vector<bool> cpu_used_;  // by slot index
  std::vector<int> gpu_ids_;    // device indexes, ascending
  std::vector<bool> gpu_used_;  // parallel to gpu_ids_
  int64_t free_cpus_ = 0;
  int64_t free_gpus_ = 0;
  int64_t memory_total_ = 0;
  int64_t memory_used_ = 0;
};

}  // namespace stoke::sched
