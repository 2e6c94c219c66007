#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

// GPU discovery through NVML, loaded at run time (no build-time CUDA dependency). Free functions;
// DiscoverGpus may be called from any thread (NVML init/shutdown are reference counted).
namespace stoke::launch {

struct GpuInfo {
  int index = 0;
  std::string name;
  int64_t memory_bytes = 0;
  std::string uuid;
  bool operator==(const GpuInfo&) const = default;
};

struct GpuDiscovery {
  std::vector<GpuInfo> gpus;
  bool nvml_available = false;  // the library loaded and initialised
  std::string note;             // one line: what was found, or why nothing was
};

inline constexpr std::string_view kNvmlLibrary = "libnvidia-ml.so.1";

// Lists the devices NVML sees. A missing library, a failing driver or zero devices give an empty
// list and a note, never an error. `library` is for tests (a path or a soname).
GpuDiscovery DiscoverGpus(const std::string& library = std::string(kNvmlLibrary));

// Turns a `--gpus` value into device indexes: "auto" = every discovered GPU, "none" or "" = no GPU,
// "0,1,3" = those devices (each must have been discovered; when NVML is unavailable the list is
// taken as given, so a machine without NVML can still be told its devices). Errors name field "gpus".
Result<std::vector<int>> ParseGpuSelection(std::string_view value, const GpuDiscovery& found);

}  // namespace stoke::launch
