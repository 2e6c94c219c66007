#include "engine/npy.h"

#include <archive.h>
#include <archive_entry.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace stoke::engine {

namespace {

struct DescrInfo {
  const char* descr;
  NpyType type;
};
constexpr DescrInfo kDescrs[] = {
    {"<f4", NpyType::kFloat32}, {"<f8", NpyType::kFloat64}, {"<i8", NpyType::kInt64}, {"<i4", NpyType::kInt32},
    {"<i2", NpyType::kInt16},   {"|i1", NpyType::kInt8},    {"|u1", NpyType::kUInt8}, {"|b1", NpyType::kBool},
};

// Value of `'key': <value>` in the header dict, up to the next top-level comma or brace.
Result<std::string> HeaderField(std::string_view header, std::string_view key) {
  std::string needle = "'" + std::string(key) + "'";
  size_t at = header.find(needle);
  if (at == std::string_view::npos) return Err(Status::InvalidArgument("npy header lacks " + needle));
  size_t colon = header.find(':', at + needle.size());
  if (colon == std::string_view::npos) return Err(Status::InvalidArgument("npy header malformed"));
  size_t start = header.find_first_not_of(' ', colon + 1);
  size_t end = start;
  int depth = 0;
  for (; end < header.size(); ++end) {
    char c = header[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
  }
  if (start == std::string_view::npos || end > header.size()) return Err(Status::InvalidArgument("npy header malformed"));
  return std::string(header.substr(start, end - start + (header[end] == ')' ? 1 : 0)));
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::NotFound("cannot open " + path));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

int64_t NpyArray::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t NpyItemSize(NpyType type) {
  switch (type) {
    case NpyType::kFloat64:
    case NpyType::kInt64:
      return 8;
    case NpyType::kFloat32:
    case NpyType::kInt32:
      return 4;
    case NpyType::kInt16:
      return 2;
    default:
      return 1;
  }
}

Result<NpyArray> ParseNpy(std::string_view bytes) {
  static_assert(std::endian::native == std::endian::little, "npy reader assumes a little-endian host");
  if (bytes.size() < 10 || bytes.substr(0, 6) != "\x93NUMPY") return Err(Status::InvalidArgument("not an npy file"));
  const uint8_t major = static_cast<uint8_t>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Err(Status::InvalidArgument("truncated npy header"));
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    return Err(Status::InvalidArgument("unsupported npy version " + std::to_string(major)));
  }
  if (bytes.size() < offset + header_len) return Err(Status::InvalidArgument("truncated npy header"));
  std::string_view header = bytes.substr(offset, header_len);

  NpyArray array;
  STOKE_ASSIGN_OR_RETURN(std::string descr, HeaderField(header, "descr"));
  bool known = false;
  for (const auto& d : kDescrs) {
    if (descr == "'" + std::string(d.descr) + "'" || (descr == "'<u1'" && d.type == NpyType::kUInt8) ||
        (descr == "'<i1'" && d.type == NpyType::kInt8)) {
      array.type = d.type;
      known = true;
      break;
    }
  }
  if (!known) return Err(Status::InvalidArgument("unsupported npy dtype " + descr));
  STOKE_ASSIGN_OR_RETURN(std::string fortran, HeaderField(header, "fortran_order"));
  if (fortran != "False") return Err(Status::InvalidArgument("fortran-order npy arrays are not supported"));
  STOKE_ASSIGN_OR_RETURN(std::string shape, HeaderField(header, "shape"));
  // "(1437, 1, 8, 8)", "(5,)", "()"
  for (size_t i = 0; i < shape.size();) {
    if (shape[i] < '0' || shape[i] > '9') {
      ++i;
      continue;
    }
    int64_t dim = 0;
    while (i < shape.size() && shape[i] >= '0' && shape[i] <= '9') dim = dim * 10 + (shape[i++] - '0');
    array.shape.push_back(dim);
  }
  const size_t need = static_cast<size_t>(array.num_elements()) * NpyItemSize(array.type);
  std::string_view payload = bytes.substr(offset + header_len);
  if (payload.size() < need) return Err(Status::InvalidArgument("npy payload shorter than its shape"));
  array.data.assign(payload.data(), need);
  return array;
}

std::string EncodeNpy(const NpyArray& array) {
  const char* descr = "<f4";
  for (const auto& d : kDescrs) {
    if (d.type == array.type) descr = d.descr;
  }
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i) shape += std::to_string(array.shape[i]) + ", ";
  if (array.shape.size() > 1) shape.resize(shape.size() - 2);
  if (array.shape.size() == 1) shape.pop_back();
  shape += ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out += array.data;
  return out;
}

Result<NpyArray> ReadNpyFile(const std::string& path) {
  STOKE_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path));
  auto parsed = ParseNpy(bytes);
  if (!parsed.has_value()) return Err(parsed.error().WithContext(path));
  return parsed;
}

Result<std::map<std::string, NpyArray>> ReadNpzFile(const std::string& path) {
  std::unique_ptr<archive, decltype(&archive_read_free)> ar(archive_read_new(), archive_read_free);
  archive_read_support_format_zip(ar.get());
  if (archive_read_open_filename(ar.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return Err(Status::NotFound(path + ": " + archive_error_string(ar.get())));
  }
  std::map<std::string, NpyArray> arrays;
  archive_entry* entry = nullptr;
  int rc;
  while ((rc = archive_read_next_header(ar.get(), &entry)) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(entry);
    if (name.size() < 4 || name.substr(name.size() - 4) != ".npy") continue;
    std::string bytes;
    char buf[1 << 16];
    la_ssize_t n;
    while ((n = archive_read_data(ar.get(), buf, sizeof(buf))) > 0) bytes.append(buf, static_cast<size_t>(n));
    if (n < 0) return Err(Status::InvalidArgument(path + ": " + archive_error_string(ar.get())));
    auto array = ParseNpy(bytes);
    if (!array.has_value()) return Err(array.error().WithContext(path + ":" + name));
    arrays.emplace(name.substr(0, name.size() - 4), std::move(*array));
  }
  if (rc != ARCHIVE_EOF) return Err(Status::InvalidArgument(path + ": " + archive_error_string(ar.get())));
  return arrays;
}

Status WriteNpzFile(const std::string& path, const std::map<std::string, NpyArray>& arrays) {
  std::unique_ptr<archive, decltype(&archive_write_free)> ar(archive_write_new(), archive_write_free);
  archive_write_set_format_zip(ar.get());
  if (archive_write_open_filename(ar.get(), path.c_str()) != ARCHIVE_OK) {
    return Status::Unavailable(path + ": " + archive_error_string(ar.get()));
  }
  for (const auto& [name, array] : arrays) {
    std::string bytes = EncodeNpy(array);
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), (name + ".npy").c_str());
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    if (archive_write_header(ar.get(), entry.get()) != ARCHIVE_OK ||
        archive_write_data(ar.get(), bytes.data(), bytes.size()) != static_cast<la_ssize_t>(bytes.size())) {
      return Status::Internal(path + ": " + archive_error_string(ar.get()));
    }
  }
  if (archive_write_close(ar.get()) != ARCHIVE_OK) return Status::Internal(path + ": " + archive_error_string(ar.get()));
  return Status::Ok();
}

}  // namespace stoke::engine
