// A fake libnvidia-ml for tests: two devices, the C entry points DiscoverGpus looks up.
#include <cstring>

namespace {
struct FakeDevice {
  const char* name;
  unsigned long long memory;
  const char* uuid;
};
FakeDevice kDevices[] = {
    {"Fake GPU A100", 40ULL << 30, "GPU-00000000-0000-0000-0000-000000000000"},
    {"Fake GPU H200", 141ULL << 30, "GPU-11111111-1111-1111-1111-111111111111"},
};
struct Memory {
  unsigned long long total, free, used;
};
int Copy(char* out, unsigned size, const char* text) {
  if (std::strlen(text) + 1 > size) return 7;  // NVML_ERROR_INSUFFICIENT_SIZE
  std::strcpy(out, text);
  return 0;
}
}  // namespace

extern "C" {
int nvmlInit_v2() { return 0; }
int nvmlShutdown() { return 0; }
const char* nvmlErrorString(int) { return "fake error"; }
int nvmlDeviceGetCount_v2(unsigned* count) {
  *count = 2;
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned index, void** device) {
  if (index >= 2) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  *device = &kDevices[index];
  return 0;
}
int nvmlDeviceGetName(void* device, char* name, unsigned size) {
  return Copy(name, size, static_cast<FakeDevice*>(device)->name);
}
int nvmlDeviceGetMemoryInfo(void* device, Memory* memory) {
  memory->total = static_cast<FakeDevice*>(device)->memory;
  memory->free = memory->total;
  memory->used = 0;
  return 0;
}
int nvmlDeviceGetUUID(void* device, char* uuid, unsigned size) {
  return Copy(uuid, size, static_cast<FakeDevice*>(device)->uuid);
}
}
