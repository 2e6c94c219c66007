#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stoke::service {

struct GpuDevice {
  int index = 0;
  std::string name;
  int64_t memory_bytes = 0;
};

// What the server hands out: CPU slots (slot i is pinned to cpu_cores[i % cores]), GPUs, memory.
struct PoolConfig {
  int cpu_slots = 1;
  std::vector<int> cpu_cores;     // cores this server may pin to
  std::vector<GpuDevice> gpus;
  int64_t memory_bytes = 0;       // 0 = memory not accounted
};

}  // namespace stoke::service
