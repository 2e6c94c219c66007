#include "service/job_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace stoke::service {

namespace fs = std::filesystem;

namespace {
void FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}
}  // namespace

Status WriteFileAtomic(const std::string& path, const std::string& contents) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Internal("cannot write " + tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + off, contents.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Status::Internal("cannot write " + tmp + ": " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::Internal("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status JobFiles::Create() const {
  std::error_code ec;
  for (const std::string& d : {WorkDir(), ResultDir(), LogDir()}) {
    fs::create_directories(d, ec);
    if (ec) return Status::Internal("cannot create " + d + ": " + ec.message());
  }
  FsyncDir(dir_);
  FsyncDir(fs::path(dir_).parent_path().string());
  return Status::Ok();
}

Status JobFiles::PrepareForLaunch(const std::string& working_dir, const std::string& hparams_json,
                                  bool write_config_json) const {
  std::error_code ec;
  if (!fs::is_directory(working_dir, ec)) {
    return Status::FailedPrecondition("working directory " + working_dir + " does not exist");
  }
  fs::create_directories(LogDir(), ec);
  fs::create_directories(ResultDir(), ec);
  const std::string& hp = hparams_json.empty() ? std::string("{}") : hparams_json;
  STOKE_RETURN_IF_ERROR(WriteFileAtomic(HparamsPath(), hp + "\n"));
  if (write_config_json) STOKE_RETURN_IF_ERROR(WriteFileAtomic(working_dir + "/config.json", hp + "\n"));
  return Status::Ok();
}

void JobFiles::WriteHandle(const launch::ProcessHandle& handle, const std::string& path) const {
  (void)WriteFileAtomic(path.empty() ? HandlePath() : path,
                        std::to_string(handle.pid) + " " + std::to_string(handle.start_ticks) + "\n");
}

std::optional<launch::ProcessHandle> JobFiles::ReadHandle(const std::string& path) const {
  std::ifstream in(path.empty() ? HandlePath() : path);
  launch::ProcessHandle h;
  if (!(in >> h.pid >> h.start_ticks) || h.pid <= 0) return std::nullopt;
  return h;
}

std::string JobFiles::ReadFrom(const std::string& path, int64_t offset, int64_t max_bytes) const {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[65536];
  int64_t pos = offset;
  while (static_cast<int64_t>(out.size()) < max_bytes) {
    size_t want = static_cast<size_t>(std::min<int64_t>(sizeof(buf), max_bytes - static_cast<int64_t>(out.size())));
    ssize_t n = ::pread(fd, buf, want, pos);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    pos += n;
  }
  ::close(fd);
  return out;
}

Status JobFiles::Remove() const {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) return Status::Internal("cannot remove " + dir_ + ": " + ec.message());
  return Status::Ok();
}

}  // namespace stoke::service
