#pragma once

#include <cstdint>
#include <vector>

// What this machine offers to jobs. Free functions; thread-safe.
namespace stoke::launch {

// The CPU cores this process may run on (sched_getaffinity), ascending.
std::vector<int> AllowedCpus();
// Their number (at least 1).
int DetectCpuCores();
// MemTotal from /proc/meminfo, or this process's cgroup memory limit (v2 memory.max of the cgroup
// and its ancestors, or v1 memory.limit_in_bytes) when that is lower.
int64_t DetectMemoryBytes();

}  // namespace stoke::launch
