#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

// Safe unpacking of uploaded code archives (tar, tar.gz/tgz, tar.bz2/xz/zst, zip) with libarchive.
// The format is found from the content, never from the file name.
namespace stoke::archive {

struct ExtractLimits {
  int64_t max_bytes = int64_t{1} << 30;  // total expanded size of all entries
  int64_t max_entries = 100'000;
};

// Unpacks `archive_path` into `dest_dir`, all or nothing: entries go into a fresh temporary
// directory beside `dest_dir`, which is renamed into place only when every entry passed.
// On any failure nothing is left behind.
// REQUIRES: the parent of `dest_dir` exists; `dest_dir` does not exist or is an empty directory.
// Errors (field "code" for problems with the archive itself):
//   InvalidArgument   — not a tar/zip, corrupt, empty file, or a hostile entry: absolute path, ".."
//                       component, control characters, device/fifo/socket, symlink pointing outside
//                       (or absolute, or chained outside), an entry written through an earlier
//                       symlink, a hard link to anything but a regular file extracted earlier,
//                       duplicate names. The message names the entry.
//   ResourceExhausted — expanded size over limits.max_bytes or more than limits.max_entries entries.
//   NotFound          — `archive_path` or the parent of `dest_dir` does not exist.
//   AlreadyExists     — `dest_dir` exists and is not empty.
//   FailedPrecondition— `dest_dir` exists and is not a directory.
//   Internal          — the local disk failed (no space, permissions).
// Extracted files get permissions (mode & 0755) | 0600 (dirs | 0700); owners are not restored.
// Thread-safe: calls share no state and never change the process working directory.
Status ExtractArchive(const std::string& archive_path, const std::string& dest_dir,
                      const ExtractLimits& limits = {});

// Same as ExtractArchive for an archive already held in memory (an HTTP upload body).
Status ExtractArchiveFromMemory(std::string_view data, const std::string& dest_dir,
                                const ExtractLimits& limits = {});

}  // namespace stoke::archive
