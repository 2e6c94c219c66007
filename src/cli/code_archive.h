#pragma once

#include <string>

#include "common/status.h"

namespace stoke::cli {

// A file under $TMPDIR (default /tmp) removed when this goes out of scope. Not thread-safe.
class ScopedTempFile {
 public:
  ScopedTempFile() = default;
  ScopedTempFile(const ScopedTempFile&) = delete;
  ScopedTempFile& operator=(const ScopedTempFile&) = delete;
  ~ScopedTempFile();

  // Creates an empty file named stoke-XXXXXX<suffix>.
  Status Create(const std::string& suffix);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Packs a code directory as tar.gz bytes for the multipart "code" part of `stoke submit --dir`
// (".git", "__pycache__" and ".ipynb_checkpoints" are left out). Uses a temporary file under $TMPDIR.
Result<std::string> PackCodeDirectory(const std::string& dir);

// Format names accepted by `stoke result --format`: "tar.gz" (also "tgz") or "zip".
Result<std::string> NormalizeResultFormat(const std::string& format);

// Unpacks a downloaded result archive into `dest_dir` (created; must not exist or be empty).
Status ExtractResultArchive(const std::string& archive_path, const std::string& dest_dir);

}  // namespace stoke::cli
