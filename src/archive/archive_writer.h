#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

// Packing a directory into an archive with libarchive: result archives on the server,
// code uploads on the client (`stoke submit --dir`).
namespace stoke::archive {

enum class ArchiveFormat {
  kTarGz,  // POSIX (pax) tar, gzip-compressed
  kZip,    // zip, deflate
};

struct WriteOptions {
  ArchiveFormat format = ArchiveFormat::kTarGz;
  // Files and directories with one of these names are left out, at any depth.
  std::vector<std::string> exclude_names;
  // Refuse with ResourceExhausted when the packed file contents would exceed this; 0 = no limit.
  int64_t max_bytes = 0;
};

// Packs the tree under `src_dir` into `out_path`. Entry names are relative to `src_dir`
// ("train.py", "data/a.csv"), sorted, with no leading "./". Regular files, directories and
// symlinks (stored as links, never followed) are kept; fifos, sockets and devices are skipped.
// Owners are not stored. Files are streamed in blocks, never held whole in memory. The
// archive is written to a temporary file beside `out_path` and renamed on success, so a
// failed call leaves no partial archive; an `out_path` inside `src_dir` is not packed into itself.
// Errors: NotFound (src_dir missing), InvalidArgument (src_dir not a directory),
// ResourceExhausted (over options.max_bytes), Internal (I/O).
// Thread-safe: calls share no state.
Status WriteArchive(const std::string& src_dir, const std::string& out_path, const WriteOptions& options);
Status WriteArchive(const std::string& src_dir, const std::string& out_path, ArchiveFormat format);

// What clients use to upload a code directory (`stoke submit --dir`): tar.gz, leaving out
// ".git", "__pycache__" and ".ipynb_checkpoints"; refuses trees whose contents exceed
// `max_bytes` (the server's default expansion cap, so what is packed can also be unpacked).
Status PackDirectory(const std::string& src_dir, const std::string& out_path,
                     int64_t max_bytes = int64_t{1} << 30);

}  // namespace stoke::archive
