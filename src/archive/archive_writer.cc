#include "archive/archive_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

namespace stoke::archive {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBlockSize = 64 * 1024;

struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

std::string ErrorText(struct archive* a) {
  const char* text = archive_error_string(a);
  return text != nullptr ? text : "unknown libarchive error";
}

// Closes a file descriptor on scope exit. Not thread-safe (one per call).
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Walks one source tree into one open archive. Not thread-safe; one per call.
class TreePacker {
 public:
  // `skip` lists files (device, inode) never to pack: the archive being written, an old copy.
  TreePacker(struct archive* out, const WriteOptions& options, std::vector<std::pair<dev_t, ino_t>> skip)
      : out_(out), options_(options), skip_(std::move(skip)) {}

  Status PackChildren(const fs::path& dir, const std::string& rel_dir) {
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) return Status::Internal("listing " + dir.string() + ": " + ec.message());
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      if (std::find(options_.exclude_names.begin(), options_.exclude_names.end(), name) !=
          options_.exclude_names.end()) {
        continue;
      }
      STOKE_RETURN_IF_ERROR(PackOne(dir / name, rel_dir.empty() ? name : rel_dir + "/" + name));
    }
    return Status::Ok();
  }

 private:
  Status PackOne(const fs::path& path, const std::string& rel) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::Ok();  // vanished while we walked
      return Status::Internal("cannot inspect " + path.string() + ": " + std::strerror(errno));
    }
    if (std::find(skip_.begin(), skip_.end(), std::pair{st.st_dev, st.st_ino}) != skip_.end()) {
      return Status::Ok();
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) return Status::Ok();

    std::unique_ptr<struct archive_entry, EntryFree> entry(archive_entry_new());
    archive_entry_copy_stat(entry.get(), &st);
    archive_entry_set_pathname(entry.get(), rel.c_str());
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    archive_entry_set_nlink(entry.get(), 1);
    if (!S_ISREG(st.st_mode)) archive_entry_set_size(entry.get(), 0);
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      fs::path target = fs::read_symlink(path, ec);
      if (ec) return Status::Internal("reading link " + path.string() + ": " + ec.message());
      archive_entry_set_symlink(entry.get(), target.c_str());
    }

    int fd = -1;
    if (S_ISREG(st.st_mode)) {
      total_bytes_ += st.st_size;
      if (options_.max_bytes > 0 && total_bytes_ > options_.max_bytes) {
        return Status::ResourceExhausted("directory contents exceed " + std::to_string(options_.max_bytes) +
                                         " bytes at " + rel);
      }
      fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return Status::Internal("opening " + path.string() + ": " + std::strerror(errno));
    }
    FdGuard file(fd);
    if (archive_write_header(out_, entry.get()) < ARCHIVE_WARN) {
      return Status::Internal("writing header for " + rel + ": " + ErrorText(out_));
    }
    if (S_ISREG(st.st_mode)) STOKE_RETURN_IF_ERROR(CopyFile(file.get(), st.st_size, rel));
    if (S_ISDIR(st.st_mode)) STOKE_RETURN_IF_ERROR(PackChildren(path, rel));
    return Status::Ok();
  }

  // Streams exactly `size` bytes (the size in the header); libarchive pads a file that shrank.
  Status CopyFile(int fd, int64_t size, const std::string& rel) {
    std::unique_ptr<char[]> buf(new char[kBlockSize]);
    int64_t left = size;
    while (left > 0) {
      ssize_t n = ::read(fd, buf.get(), static_cast<size_t>(std::min<int64_t>(left, kBlockSize)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Internal("reading " + rel + ": " + std::strerror(errno));
      if (n == 0) break;
      if (archive_write_data(out_, buf.get(), static_cast<size_t>(n)) < 0) {
        return Status::Internal("writing " + rel + ": " + ErrorText(out_));
      }
      left -= n;
    }
    return Status::Ok();
  }

  struct archive* out_;
  const WriteOptions& options_;
  std::vector<std::pair<dev_t, ino_t>> skip_;
  int64_t total_bytes_ = 0;
};

}  // namespace

Status WriteArchive(const std::string& src_dir, const std::string& out_path, const WriteOptions& options) {
  struct stat st;
  if (::stat(src_dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("source directory not found: " + src_dir);
    return Status::Internal("cannot inspect " + src_dir + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument("not a directory: " + src_dir, "src_dir");

  std::string temp_path = out_path + ".tmp-XXXXXX";
  int fd = ::mkstemp(temp_path.data());
  if (fd < 0) return Status::Internal("creating " + temp_path + ": " + std::strerror(errno));
  FdGuard file(fd);
  ::fchmod(fd, 0644);
  std::vector<std::pair<dev_t, ino_t>> skip;
  if (struct stat self; ::fstat(fd, &self) == 0) skip.emplace_back(self.st_dev, self.st_ino);
  if (struct stat old; ::stat(out_path.c_str(), &old) == 0) skip.emplace_back(old.st_dev, old.st_ino);
  bool done = false;
  struct Cleanup {
    const std::string& path;
    bool& done;
    ~Cleanup() {
      if (!done) ::unlink(path.c_str());
    }
  } cleanup{temp_path, done};

  std::unique_ptr<struct archive, WriteFree> out(archive_write_new());
  if (!out) return Status::Internal("out of memory");
  int r = ARCHIVE_OK;
  if (options.format == ArchiveFormat::kZip) {
    r = archive_write_set_format_zip(out.get());
  } else {
    r = archive_write_set_format_pax_restricted(out.get());
    if (r == ARCHIVE_OK) r = archive_write_add_filter_gzip(out.get());
  }
  if (r != ARCHIVE_OK || archive_write_open_fd(out.get(), fd) != ARCHIVE_OK) {
    return Status::Internal("starting archive " + out_path + ": " + ErrorText(out.get()));
  }
  TreePacker packer(out.get(), options, std::move(skip));
  STOKE_RETURN_IF_ERROR(packer.PackChildren(src_dir, ""));
  if (archive_write_close(out.get()) != ARCHIVE_OK) {
    return Status::Internal("finishing archive " + out_path + ": " + ErrorText(out.get()));
  }
  if (::fsync(fd) != 0 || ::rename(temp_path.c_str(), out_path.c_str()) != 0) {
    return Status::Internal("saving archive " + out_path + ": " + std::strerror(errno));
  }
  done = true;
  return Status::Ok();
}

Status WriteArchive(const std::string& src_dir, const std::string& out_path, ArchiveFormat format) {
  WriteOptions options;
  options.format = format;
  return WriteArchive(src_dir, out_path, options);
}

Status PackDirectory(const std::string& src_dir, const std::string& out_path, int64_t max_bytes) {
  WriteOptions options;
  options.format = ArchiveFormat::kTarGz;
  options.exclude_names = {".git", "__pycache__", ".ipynb_checkpoints"};
  options.max_bytes = max_bytes;
  return WriteArchive(src_dir, out_path, options);
}

}  // namespace stoke::archive
