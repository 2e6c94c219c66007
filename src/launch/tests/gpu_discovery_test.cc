#include "launch/gpu_discovery.h"

#include <gtest/gtest.h>

namespace stoke::launch {
namespace {

TEST(GpuDiscoveryTest, MissingLibraryGivesEmptyListAndANote) {
  GpuDiscovery found = DiscoverGpus("libnvidia-ml-does-not-exist.so.1");
  EXPECT_TRUE(found.gpus.empty());
  EXPECT_FALSE(found.nvml_available);
  EXPECT_NE(found.note.find("NVML not loadable"), std::string::npos) << found.note;
}

TEST(GpuDiscoveryTest, ListsDevicesThroughNvml) {
  GpuDiscovery found = DiscoverGpus(STOKE_FAKE_NVML);
  ASSERT_TRUE(found.nvml_available) << found.note;
  ASSERT_EQ(found.gpus.size(), 2u);
  EXPECT_EQ(found.gpus[0], (GpuInfo{0, "Fake GPU A100", 40LL << 30, "GPU-00000000-0000-0000-0000-000000000000"}));
  EXPECT_EQ(found.gpus[1].index, 1);
  EXPECT_EQ(found.gpus[1].name, "Fake GPU H200");
  EXPECT_EQ(found.gpus[1].memory_bytes, 141LL << 30);
  EXPECT_EQ(found.note, "found 2 GPU(s) via NVML");
}

TEST(GpuDiscoveryTest, SystemNvmlIsOptional) {
  // Whatever this machine has: a consistent answer, never a failure.
  GpuDiscovery found = DiscoverGpus();
  EXPECT_FALSE(found.note.empty());
  if (!found.nvml_available) {
    EXPECT_TRUE(found.gpus.empty());
  }
  for (const auto& gpu : found.gpus) {
    EXPECT_FALSE(gpu.name.empty());
    EXPECT_GT(gpu.memory_bytes, 0);
    EXPECT_EQ(gpu.uuid.rfind("GPU-", 0), 0u) << gpu.uuid;
  }
  std::printf("system GPUs: %s\n", found.note.c_str());
  for (const auto& gpu : found.gpus) {
    std::printf("  %d %s %lld MiB %s\n", gpu.index, gpu.name.c_str(),
                static_cast<long long>(gpu.memory_bytes >> 20), gpu.uuid.c_str());
  }
}

TEST(GpuSelectionTest, AutoNoneAndLists) {
  GpuDiscovery found = DiscoverGpus(STOKE_FAKE_NVML);
  EXPECT_EQ(ParseGpuSelection("auto", found).value(), (std::vector<int>{0, 1}));
  EXPECT_TRUE(ParseGpuSelection("none", found).value().empty());
  EXPECT_TRUE(ParseGpuSelection("", found).value().empty());
  EXPECT_EQ(ParseGpuSelection("1,0", found).value(), (std::vector<int>{1, 0}));
}

TEST(GpuSelectionTest, RejectsUnknownDuplicateAndMalformed) {
  GpuDiscovery found = DiscoverGpus(STOKE_FAKE_NVML);
  for (const char* bad : {"2", "0,0", "0,", "a", "-1", "0;1", " 1"}) {
    auto result = ParseGpuSelection(bad, found);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_EQ(result.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(result.error().field(), "gpus");
  }
}

TEST(GpuSelectionTest, ExplicitListAcceptedWithoutNvml) {
  GpuDiscovery none = DiscoverGpus("libnvidia-ml-does-not-exist.so.1");
  EXPECT_EQ(ParseGpuSelection("0,1,3", none).value(), (std::vector<int>{0, 1, 3}));
  EXPECT_TRUE(ParseGpuSelection("auto", none).value().empty());
  // With NVML present but no devices, naming one is an error.
  GpuDiscovery empty{.gpus = {}, .nvml_available = true, .note = "no GPUs: NVML reports no devices"};
  EXPECT_FALSE(ParseGpuSelection("0", empty).has_value());
}

}  // namespace
}  // namespace stoke::launch
