#include "launch/host_resources.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include "launch/proc_table.h"

namespace stoke::launch {
namespace {

TEST(HostResourcesTest, CpuCoresMatchAffinity) {
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_EQ(DetectCpuCores(), CPU_COUNT(&set));
  auto cpus = AllowedCpus();
  ASSERT_EQ(static_cast<int>(cpus.size()), CPU_COUNT(&set));
  for (int cpu : cpus) EXPECT_TRUE(CPU_ISSET(cpu, &set));
  EXPECT_TRUE(std::is_sorted(cpus.begin(), cpus.end()));
}

TEST(HostResourcesTest, MemoryIsPositiveAndAtMostMemTotal) {
  auto meminfo = ReadSmallFile("/proc/meminfo");
  ASSERT_TRUE(meminfo.has_value());
  int64_t mem_total = std::strtoll(meminfo->c_str() + meminfo->find("MemTotal:") + 9, nullptr, 10) * 1024;
  int64_t detected = DetectMemoryBytes();
  EXPECT_GT(detected, 64LL << 20);
  EXPECT_LE(detected, mem_total);
}

}  // namespace
}  // namespace stoke::launch
