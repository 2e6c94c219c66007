#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace stoke::engine {

enum class NpyType { kFloat32, kFloat64, kInt64, kInt32, kInt16, kInt8, kUInt8, kBool };

// One array from a NumPy .npy file, little-endian, C order, bytes as stored.
struct NpyArray {
  NpyType type = NpyType::kFloat32;
  std::vector<int64_t> shape;
  std::string data;

  int64_t num_elements() const;
};

size_t NpyItemSize(NpyType type);
// Parses a whole .npy file (format versions 1-3). Fortran order and big-endian are refused.
Result<NpyArray> ParseNpy(std::string_view bytes);
// Serializes as .npy version 1.0 (tests and exports).
std::string EncodeNpy(const NpyArray& array);
Result<NpyArray> ReadNpyFile(const std::string& path);
// Reads every `<name>.npy` member of an .npz (zip, stored or deflated) keyed by <name>.
Result<std::map<std::string, NpyArray>> ReadNpzFile(const std::string& path);
// Writes an .npz (zip) with `<name>.npy` members.
Status WriteNpzFile(const std::string& path, const std::map<std::string, NpyArray>& arrays);

}  // namespace stoke::engine
