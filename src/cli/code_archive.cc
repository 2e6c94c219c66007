#include "cli/code_archive.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "archive/archive_extractor.h"
#include "archive/archive_writer.h"

namespace stoke::cli {
ScopedTempFile::~ScopedTempFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

Status ScopedTempFile::Create(const std::string& suffix) {
  const char* dir = std::getenv("TMPDIR");
  std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/stoke-XXXXXX" + suffix;
  int fd = ::mkstemps(pattern.data(), static_cast<int>(suffix.size()));
  if (fd < 0) return Status::Internal("cannot create a temporary file like " + pattern);
  ::close(fd);
  path_ = pattern;
  return Status::Ok();
}

Result<std::string> PackCodeDirectory(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Err(Status::InvalidArgument("--dir " + dir + " is not a directory", "dir"));
  }
  ScopedTempFile tmp;
  STOKE_RETURN_IF_ERROR(tmp.Create(".tar.gz"));
  Status packed = archive::PackDirectory(dir, tmp.path());
  if (!packed.ok()) return Err(Status(packed.code(), "cannot pack " + dir + ": " + packed.message(), "dir"));
  std::ifstream in(tmp.path(), std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  if (!in && !in.eof()) return Err(Status::Internal("cannot read back the packed archive"));
  return buf.str();
}

Result<std::string> NormalizeResultFormat(const std::string& format) {
  if (format.empty() || format == "tar.gz" || format == "tgz") return std::string("tar.gz");
  if (format == "zip") return std::string("zip");
  return Err(Status::InvalidArgument("--format must be tar.gz or zip, not \"" + format + "\"", "format"));
}

Status ExtractResultArchive(const std::string& archive_path, const std::string& dest_dir) {
  std::filesystem::path dest = std::filesystem::absolute(dest_dir).lexically_normal();
  if (dest.filename().empty()) dest = dest.parent_path();  // "out/" -> "out"
  std::error_code ec;
  if (dest.has_parent_path()) std::filesystem::create_directories(dest.parent_path(), ec);
  return archive::ExtractArchive(archive_path, dest.string());
}

}  // namespace stoke::cli
