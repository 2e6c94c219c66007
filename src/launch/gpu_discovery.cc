#include "launch/gpu_discovery.h"

#include <dlfcn.h>

#include <algorithm>
#include <charconv>

namespace stoke::launch {
namespace {

// The slice of the NVML C API used here (stable since NVML 5; the _v2 entry points exist in
// every driver of the last decade).
using NvmlReturn = int;
using NvmlDevice = struct NvmlDeviceOpaque*;
struct NvmlMemory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
constexpr NvmlReturn kNvmlSuccess = 0;
constexpr unsigned kNameBufferSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned kUuidBufferSize = 96;  // NVML_DEVICE_UUID_V2_BUFFER_SIZE

struct NvmlApi {
  NvmlReturn (*init)();
  NvmlReturn (*shutdown)();
  const char* (*error_string)(NvmlReturn);
  NvmlReturn (*get_count)(unsigned*);
  NvmlReturn (*get_handle)(unsigned, NvmlDevice*);
  NvmlReturn (*get_name)(NvmlDevice, char*, unsigned);
  NvmlReturn (*get_memory)(NvmlDevice, NvmlMemory*);
  NvmlReturn (*get_uuid)(NvmlDevice, char*, unsigned);
};

template <typename Fn>
bool Bind(void* lib, const char* symbol, Fn& out) {
  out = reinterpret_cast<Fn>(dlsym(lib, symbol));
  return out != nullptr;
}

}  // namespace

GpuDiscovery DiscoverGpus(const std::string& library) {
  GpuDiscovery result;
  void* lib = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    result.note = "no GPUs: NVML not loadable (" + std::string(why ? why : library) + ")";
    return result;
  }
  NvmlApi api{};
  if (!Bind(lib, "nvmlInit_v2", api.init) || !Bind(lib, "nvmlShutdown", api.shutdown) ||
      !Bind(lib, "nvmlDeviceGetCount_v2", api.get_count) ||
      !Bind(lib, "nvmlDeviceGetHandleByIndex_v2", api.get_handle) ||
      !Bind(lib, "nvmlDeviceGetName", api.get_name) || !Bind(lib, "nvmlDeviceGetMemoryInfo", api.get_memory) ||
      !Bind(lib, "nvmlDeviceGetUUID", api.get_uuid)) {
    result.note = "no GPUs: " + library + " lacks a required NVML function";
    dlclose(lib);
    return result;
  }
  Bind(lib, "nvmlErrorString", api.error_string);
  auto describe = [&](NvmlReturn rc) {
    const char* text = api.error_string ? api.error_string(rc) : nullptr;
    return text ? std::string(text) : "NVML error " + std::to_string(rc);
  };
  if (NvmlReturn rc = api.init(); rc != kNvmlSuccess) {
    result.note = "no GPUs: nvmlInit failed (" + describe(rc) + ")";
    dlclose(lib);
    return result;
  }
  result.nvml_available = true;
  unsigned count = 0;
  if (NvmlReturn rc = api.get_count(&count); rc != kNvmlSuccess) {
    result.note = "no GPUs: nvmlDeviceGetCount failed (" + describe(rc) + ")";
    count = 0;
  }
  std::string skipped;
  for (unsigned i = 0; i < count; ++i) {
    NvmlDevice device = nullptr;
    char name[kNameBufferSize] = {};
    char uuid[kUuidBufferSize] = {};
    NvmlMemory memory{};
    NvmlReturn rc = api.get_handle(i, &device);
    if (rc == kNvmlSuccess) rc = api.get_name(device, name, sizeof(name));
    if (rc == kNvmlSuccess) rc = api.get_memory(device, &memory);
    if (rc == kNvmlSuccess) rc = api.get_uuid(device, uuid, sizeof(uuid));
    if (rc != kNvmlSuccess) {  // e.g. a device lost off the bus: leave it out, say so
      skipped += " device " + std::to_string(i) + " skipped (" + describe(rc) + ")";
      continue;
    }
    result.gpus.push_back(GpuInfo{.index = static_cast<int>(i), .name = name,
                                  .memory_bytes = static_cast<int64_t>(memory.total), .uuid = uuid});
  }
  api.shutdown();
  dlclose(lib);
  if (result.note.empty()) {
    result.note = result.gpus.empty() ? "no GPUs: NVML reports no devices"
                                      : "found " + std::to_string(result.gpus.size()) + " GPU(s) via NVML";
  }
  result.note += skipped;
  return result;
}

Result<std::vector<int>> ParseGpuSelection(std::string_view value, const GpuDiscovery& found) {
  std::vector<int> out;
  if (value == "auto") {
    for (const auto& gpu : found.gpus) out.push_back(gpu.index);
    return out;
  }
  if (value.empty() || value == "none") return out;
  while (true) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    int index = -1;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), index);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || index < 0) {
      return Err(Status::InvalidArgument("'" + std::string(item) +
                                             "' is not a GPU index; use auto, none or a list like 0,1,3",
                                         "gpus"));
    }
    if (std::find(out.begin(), out.end(), index) != out.end()) {
      return Err(Status::InvalidArgument("GPU " + std::to_string(index) + " is listed twice", "gpus"));
    }
    if (found.nvml_available &&
        std::none_of(found.gpus.begin(), found.gpus.end(), [&](const GpuInfo& g) { return g.index == index; })) {
      return Err(Status::InvalidArgument("GPU " + std::to_string(index) + " was not found (" + found.note + ")",
                                         "gpus"));
    }
    out.push_back(index);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace stoke::launch
