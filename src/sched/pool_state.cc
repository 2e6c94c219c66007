#include "sched/pool_state.h"

#include <algorithm>

namespace stoke::sched {

PoolState::PoolState(const Pool& pool)
    : cpu_used_(static_cast<size_t>(std::max(pool.cpu_slots, 0)), false),
      gpu_ids_(pool.gpus),
      memory_total_(std::max<int64_t>(pool.memory_bytes, 0)) {
  std::sort(gpu_ids_.begin(), gpu_ids_.end());
  gpu_ids_.erase(std::unique(gpu_ids_.begin(), gpu_ids_.end()), gpu_ids_.end());
  gpu_used_.assign(gpu_ids_.size(), false);
  free_cpus_ = static_cast<int64_t>(cpu_used_.size());
  free_gpus_ = static_cast<int64_t>(gpu_ids_.size());
}

Amount PoolState::Capacity() const {
  return Amount{static_cast<int64_t>(cpu_used_.size()), static_cast<int64_t>(gpu_ids_.size()), memory_total_};
}

Amount PoolState::Free() const {
  // Running jobs may hold more memory than the pool has (their asks are not limits); never report
  // negative free memory, or jobs that ask no memory would not fit either.
  return Amount{free_cpus_, free_gpus_, std::max<int64_t>(memory_total_ - memory_used_, 0)};
}

Amount PoolState::Need(const Resources& per_unit, int64_t units) const {
  Amount one{per_unit.cpus, per_unit.gpus, accounts_memory() ? per_unit.memory_bytes : 0};
  return one * units;
}

Amount PoolState::Held(const Allocation& unit, int64_t memory_bytes) const {
  return Amount{static_cast<int64_t>(unit.cpus.size()), static_cast<int64_t>(unit.gpus.size()),
                accounts_memory() ? memory_bytes : 0};
}

int PoolState::GpuPosition(int device) const {
  auto it = std::lower_bound(gpu_ids_.begin(), gpu_ids_.end(), device);
  if (it == gpu_ids_.end() || *it != device) return -1;
  return static_cast<int>(it - gpu_ids_.begin());
}

bool PoolState::IsFree(const Allocation& unit) const {
  for (int cpu : unit.cpus) {
    if (cpu < 0 || cpu >= static_cast<int>(cpu_used_.size()) || cpu_used_[cpu]) return false;
  }
  for (int gpu : unit.gpus) {
    int pos = GpuPosition(gpu);
    if (pos < 0 || gpu_used_[pos]) return false;
  }
  // A unit may list an index twice only by mistake; catch it by checking distinctness.
  std::vector<int> cpus = unit.cpus, gpus = unit.gpus;
  std::sort(cpus.begin(), cpus.end());
  std::sort(gpus.begin(), gpus.end());
  return std::adjacent_find(cpus.begin(), cpus.end()) == cpus.end() &&
         std::adjacent_find(gpus.begin(), gpus.end()) == gpus.end();
}

void PoolState::MarkUsed(const Allocation& unit, int64_t memory_bytes) {
  for (int cpu : unit.cpus) {
    cpu_used_[cpu] = true;
    --free_cpus_;
  }
  for (int gpu : unit.gpus) {
    gpu_used_[GpuPosition(gpu)] = true;
    --free_gpus_;
  }
  if (accounts_memory()) memory_used_ += memory_bytes;
}

void PoolState::Release(const Allocation& unit, int64_t memory_bytes) {
  for (int cpu : unit.cpus) {
    cpu_used_[cpu] = false;
    ++free_cpus_;
  }
  for (int gpu : unit.gpus) {
    gpu_used_[GpuPosition(gpu)] = false;
    ++free_gpus_;
  }
  if (accounts_memory()) memory_used_ -= memory_bytes;
}

std::vector<int> PoolState::PickCpus(int count) const {
  std::vector<int> picked;
  if (count <= 0) return picked;
  // First fit on contiguous runs keeps a unit's slots together (cache and NUMA locality, and
  // readable CPU sets); fall back to the lowest free slots when the free space is fragmented.
  int run_start = -1;
  for (int i = 0; i < static_cast<int>(cpu_used_.size()); ++i) {
    if (cpu_used_[i]) {
      run_start = -1;
      continue;
    }
    if (run_start < 0) run_start = i;
    if (i - run_start + 1 == count) {
      for (int j = run_start; j <= i; ++j) picked.push_back(j);
      return picked;
    }
  }
  for (int i = 0; i < static_cast<int>(cpu_used_.size()) && static_cast<int>(picked.size()) < count; ++i) {
    if (!cpu_used_[i]) picked.push_back(i);
  }
  return picked;
}

std::optional<Allocation> PoolState::TakeUnit(const Resources& per_unit) {
  Amount need = Need(per_unit, 1);
  if (per_unit.cpus < 0 || per_unit.gpus < 0 || need.memory < 0 || !need.FitsIn(Free())) return std::nullopt;
  Allocation unit;
  unit.cpus = PickCpus(per_unit.cpus);
  for (int pos = 0; pos < static_cast<int>(gpu_ids_.size()) && static_cast<int>(unit.gpus.size()) < per_unit.gpus;
       ++pos) {
    if (!gpu_used_[pos]) unit.gpus.push_back(gpu_ids_[pos]);
  }
  MarkUsed(unit, need.memory);
  return unit;
}

}  // namespace stoke::sched
