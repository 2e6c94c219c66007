#include "archive/archive_extractor.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "archive/entry_path.h"

namespace stoke::archive {
namespace {

namespace fs = std::filesystem;

constexpr const char* kField = "code";
constexpr int kMaxLinkHops = 40;  // like the kernel's MAXSYMLINKS

struct ReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
using ReadHandle = std::unique_ptr<struct archive, ReadFree>;
using WriteHandle = std::unique_ptr<struct archive, WriteFree>;

enum class Kind { kDir, kFile, kSymlink };

std::string ErrorText(struct archive* a) {
  const char* text = archive_error_string(a);
  return text != nullptr ? text : "unknown libarchive error";
}

Status Refuse(std::string_view entry, std::string_view why) {
  return Status::InvalidArgument("archive entry \"" + Printable(entry) + "\": " + std::string(why), kField);
}

std::vector<std::string> Components(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// Resolves `target` starting in directory `at` (components below root), following the
// symlinks that now exist on disk, and fails when the walk ever climbs above root.
// Components that do not exist are taken lexically (the kernel would stop there anyway).
bool ResolvesInside(const fs::path& root, std::vector<std::string>& at, std::string_view target,
                    int& hops_left) {
  if (!target.empty() && target.front() == '/') return false;
  for (std::string& part : Components(target)) {
    if (part == ".") continue;
    if (part == "..") {
      if (at.empty()) return false;
      at.pop_back();
      continue;
    }
    at.push_back(part);
    fs::path here = root;
    for (const std::string& c : at) here /= c;
    struct stat st;
    if (::lstat(here.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) continue;
    if (--hops_left < 0) return false;
    std::error_code ec;
    fs::path link = fs::read_symlink(here, ec);
    if (ec) return false;
    at.pop_back();
    if (!ResolvesInside(root, at, link.native(), hops_left)) return false;
  }
  return true;
}

// The checked destination: where the result goes and the temporary directory beside it.
struct Staging {
  fs::path final_dir;
  fs::path temp_dir;
};

Result<Staging> PrepareStaging(const std::string& dest_dir) {
  if (dest_dir.empty()) return Err(Status::InvalidArgument("destination directory is empty", "dest_dir"));
  std::error_code ec;
  fs::path dest = fs::absolute(fs::path(dest_dir), ec).lexically_normal();
  if (ec) return Err(Status::Internal("cannot resolve " + dest_dir + ": " + ec.message()));
  if (!dest.has_filename()) dest = dest.parent_path();  // "a/b/" -> "a/b"
  if (!dest.has_filename() || dest.filename() == "..") {
    return Err(Status::InvalidArgument("destination must name a directory to create: " + dest_dir, "dest_dir"));
  }
  struct stat st;
  if (::lstat(dest.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return Err(Status::FailedPrecondition("destination exists and is not a directory: " + dest.string()));
    }
    const bool empty = fs::is_empty(dest, ec);
    if (ec) return Err(Status::Internal("cannot list " + dest.string() + ": " + ec.message()));
    if (!empty) return Err(Status::AlreadyExists("destination directory is not empty: " + dest.string()));
  } else if (errno != ENOENT) {
    return Err(Status::Internal("cannot inspect " + dest.string() + ": " + std::strerror(errno)));
  }
  // A parent without symlinks lets libarchive's symlink guard check every component.
  fs::path parent = fs::canonical(dest.parent_path(), ec);
  if (ec) return Err(Status::NotFound("destination parent " + dest.parent_path().string() + ": " + ec.message()));
  Staging staging;
  staging.final_dir = parent / dest.filename();
  std::string pattern = (parent / ("." + dest.filename().string() + ".extract-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Err(Status::Internal("cannot create a temporary directory in " + parent.string() + ": " +
                                std::strerror(errno)));
  }
  staging.temp_dir = pattern;
  return staging;
}

// Removes the temporary directory unless Release() was called. Not thread-safe (one per call).
class TempDirGuard {
 public:
  explicit TempDirGuard(fs::path dir) : dir_(std::move(dir)) {}
  ~TempDirGuard() {
    if (dir_.empty()) return;
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  TempDirGuard(const TempDirGuard&) = delete;
  TempDirGuard& operator=(const TempDirGuard&) = delete;
  void Release() { dir_.clear(); }

 private:
  fs::path dir_;
};

// Copies one entry's data, counting the expanded size against the budget.
Status CopyData(struct archive* in, struct archive* out, std::string_view name, int64_t budget,
                int64_t& written) {
  written = 0;
  for (;;) {
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(in, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) return Status::Ok();
    if (r < ARCHIVE_WARN) return Refuse(name, "corrupt data: " + ErrorText(in));
    int64_t end = static_cast<int64_t>(offset) + static_cast<int64_t>(size);
    written = std::max(written, end);
    if (written > budget) {
      return Status::ResourceExhausted("archive expands beyond the size limit at entry \"" + Printable(name) + "\"",
                                       kField);
    }
    if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_OK) {
      return Status::Internal("writing \"" + Printable(name) + "\": " + ErrorText(out));
    }
  }
}

// Extracts every entry of `in` below `root` (absolute, symlink-free), checking each first.
Status ExtractEntries(struct archive* in, const fs::path& root, const ExtractLimits& limits) {
  WriteHandle out(archive_write_disk_new());
  if (!out) return Status::Internal("out of memory");
  // Our own checks come first; libarchive's guards are a second line of defence.
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  std::unordered_map<std::string, Kind> seen;
  std::vector<std::pair<std::string, std::string>> symlinks;  // path, target
  int64_t entries = 0;
  int64_t total_bytes = 0;
  for (;;) {
    struct archive_entry* entry = nullptr;
    int r = archive_read_next_header(in, &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return Status::InvalidArgument("not a readable tar or zip archive: " + ErrorText(in), kField);
    }
    if (++entries > limits.max_entries) {
      return Status::ResourceExhausted(
          "archive has more than " + std::to_string(limits.max_entries) + " entries", kField);
    }
    const char* raw = archive_entry_pathname(entry);
    if (raw == nullptr) raw = archive_entry_pathname_utf8(entry);
    if (raw == nullptr) return Refuse("?", "name cannot be decoded");
    const std::string name = raw;
    STOKE_ASSIGN_OR_RETURN(std::string rel, NormalizeEntryPath(name));

    const char* hardlink = archive_entry_hardlink(entry);
    Kind kind;
    switch (archive_entry_filetype(entry)) {
      case AE_IFREG: kind = Kind::kFile; break;
      case AE_IFDIR: kind = Kind::kDir; break;
      case AE_IFLNK: kind = Kind::kSymlink; break;
      case AE_IFCHR:
      case AE_IFBLK: return Refuse(name, "device files are not allowed");
      case AE_IFIFO: return Refuse(name, "fifos are not allowed");
      case AE_IFSOCK: return Refuse(name, "sockets are not allowed");
      default:
        if (hardlink == nullptr) return Refuse(name, "unsupported entry type");
        kind = Kind::kFile;
    }
    if (hardlink != nullptr) kind = Kind::kFile;
    if (rel.empty()) {
      if (kind != Kind::kDir) return Refuse(name, "names the destination itself");
      continue;  // "./": the root, which exists already
    }

    // Parents must be directories: writing below an earlier symlink is the link-then-write attack.
    for (size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1)) {
      std::string parent = rel.substr(0, slash);
      auto [it, inserted] = seen.emplace(parent, Kind::kDir);
      if (it->second == Kind::kSymlink) return Refuse(name, "is written through the symlink \"" + parent + "\"");
      if (it->second != Kind::kDir) return Refuse(name, "has the non-directory \"" + parent + "\" as a parent");
    }
    if (auto it = seen.find(rel); it != seen.end() && !(it->second == Kind::kDir && kind == Kind::kDir)) {
      return Refuse(name, "appears more than once or replaces a directory");
    }

    if (kind == Kind::kSymlink) {
      const char* target = archive_entry_symlink(entry);
      if (target == nullptr) target = archive_entry_symlink_utf8(entry);
      if (target == nullptr || *target == '\0') return Refuse(name, "symlink without a target");
      if (HasControlChar(target)) return Refuse(name, "symlink target holds a control character");
      if (*target == '/') return Refuse(name, "symlink to the absolute path \"" + std::string(target) + "\"");
      if (!SymlinkTargetStaysInside(rel, target)) {
        return Refuse(name, "symlink target \"" + std::string(target) + "\" points outside the destination");
      }
      symlinks.emplace_back(rel, target);
    }
    if (hardlink != nullptr) {
      auto target = NormalizeEntryPath(hardlink);
      if (!target.has_value() || target->empty()) {
        return Refuse(name, "hard link to \"" + Printable(hardlink) + "\" points outside the destination");
      }
      auto it = seen.find(*target);
      if (it == seen.end() || it->second != Kind::kFile) {
        return Refuse(name, "hard link target \"" + Printable(*target) + "\" is not a regular file extracted earlier");
      }
      archive_entry_set_hardlink(entry, (root / *target).c_str());
    }

    if (kind == Kind::kFile && archive_entry_size_is_set(entry) &&
        archive_entry_size(entry) > limits.max_bytes - total_bytes) {
      return Status::ResourceExhausted("archive expands beyond the size limit at entry \"" + Printable(name) + "\"",
                                       kField);
    }
    const mode_t perm = archive_entry_perm(entry) & 0755;
    archive_entry_set_perm(entry, perm | (kind == Kind::kDir ? 0700 : 0600));
    archive_entry_set_pathname(entry, (root / rel).c_str());

    if (archive_write_header(out.get(), entry) < ARCHIVE_WARN) {
      return Refuse(name, "cannot be extracted: " + ErrorText(out.get()));
    }
    if (kind == Kind::kFile) {
      int64_t written = 0;
      STOKE_RETURN_IF_ERROR(CopyData(in, out.get(), name, limits.max_bytes - total_bytes, written));
      total_bytes += written;
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN) {
      return Status::Internal("finishing \"" + Printable(name) + "\": " + ErrorText(out.get()));
    }
    seen[rel] = kind;
  }
  if (archive_write_close(out.get()) < ARCHIVE_WARN) {
    return Status::Internal("finishing extraction: " + ErrorText(out.get()));
  }
  // Links that point through other links can escape even when each looks fine alone.
  for (const auto& [path, target] : symlinks) {
    std::vector<std::string> at = Components(path);
    at.pop_back();
    int hops_left = kMaxLinkHops;
    if (!ResolvesInside(root, at, target, hops_left)) {
      return Refuse(path, "symlink target \"" + target + "\" resolves outside the destination (or loops)");
    }
  }
  return Status::Ok();
}

ReadHandle NewReader() {
  ReadHandle in(archive_read_new());
  if (!in) return in;
  // Only filters built into libarchive here; none of these spawns an external program.
  archive_read_support_filter_gzip(in.get());
  archive_read_support_filter_bzip2(in.get());
  archive_read_support_filter_xz(in.get());
  archive_read_support_filter_zstd(in.get());
  archive_read_support_format_tar(in.get());
  archive_read_support_format_zip(in.get());
  return in;
}

// Shared tail of both entry points: stage, extract, move into place.
template <typename OpenFn>
Status ExtractWith(OpenFn open, const std::string& dest_dir, const ExtractLimits& limits) {
  ReadHandle in = NewReader();
  if (!in) return Status::Internal("out of memory");
  if (open(in.get()) != ARCHIVE_OK) {
    return Status::InvalidArgument("not a readable tar or zip archive: " + ErrorText(in.get()), kField);
  }
  STOKE_ASSIGN_OR_RETURN(Staging staging, PrepareStaging(dest_dir));
  TempDirGuard guard(staging.temp_dir);
  STOKE_RETURN_IF_ERROR(ExtractEntries(in.get(), staging.temp_dir, limits));
  std::error_code ec;
  fs::permissions(staging.temp_dir, fs::perms(0755), ec);
  // rename(2) atomically replaces an empty directory and fails on a non-empty one.
  if (::rename(staging.temp_dir.c_str(), staging.final_dir.c_str()) != 0) {
    if (errno == ENOTEMPTY || errno == EEXIST) {
      return Status::AlreadyExists("destination directory is not empty: " + staging.final_dir.string());
    }
    return Status::Internal("moving the extracted tree into " + staging.final_dir.string() + ": " +
                            std::strerror(errno));
  }
  guard.Release();
  return Status::Ok();
}

}  // namespace

Status ExtractArchive(const std::string& archive_path, const std::string& dest_dir, const ExtractLimits& limits) {
  struct stat st;
  if (::stat(archive_path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("archive not found: " + archive_path);
    return Status::Internal("cannot read " + archive_path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("archive is not a regular file: " + archive_path, kField);
  if (st.st_size == 0) return Status::InvalidArgument("archive is an empty file", kField);
  return ExtractWith(
      [&](struct archive* in) { return archive_read_open_filename(in, archive_path.c_str(), 64 * 1024); },
      dest_dir, limits);
}

Status ExtractArchiveFromMemory(std::string_view data, const std::string& dest_dir, const ExtractLimits& limits) {
  if (data.empty()) return Status::InvalidArgument("archive is empty", kField);
  return ExtractWith([&](struct archive* in) { return archive_read_open_memory(in, data.data(), data.size()); },
                     dest_dir, limits);
}

}  // namespace stoke::archive
