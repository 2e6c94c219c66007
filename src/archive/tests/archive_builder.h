#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <string>

// Test helper: writes real archives with libarchive's own writer, including the hostile
// entries a well-behaved tool would never produce. Not thread-safe.
namespace stoke::archive::testing {

enum class BuildFormat { kTar, kTarGz, kZip };

class ArchiveBuilder {
 public:
  ArchiveBuilder(const std::string& path, BuildFormat format) : out_(archive_write_new()) {
    if (format == BuildFormat::kZip) {
      archive_write_set_format_zip(out_);
    } else {
      archive_write_set_format_pax_restricted(out_);
      if (format == BuildFormat::kTarGz) archive_write_add_filter_gzip(out_);
    }
    ok_ = archive_write_open_filename(out_, path.c_str()) == ARCHIVE_OK;
  }
  ~ArchiveBuilder() { Close(); }
  ArchiveBuilder(const ArchiveBuilder&) = delete;
  ArchiveBuilder& operator=(const ArchiveBuilder&) = delete;

  ArchiveBuilder& File(const std::string& name, const std::string& content, int perm = 0644) {
    return Add(name, AE_IFREG, perm, content, nullptr, nullptr);
  }
  ArchiveBuilder& Dir(const std::string& name) { return Add(name, AE_IFDIR, 0755, "", nullptr, nullptr); }
  ArchiveBuilder& Symlink(const std::string& name, const std::string& target) {
    return Add(name, AE_IFLNK, 0777, "", target.c_str(), nullptr);
  }
  ArchiveBuilder& Hardlink(const std::string& name, const std::string& target) {
    return Add(name, AE_IFREG, 0644, "", nullptr, target.c_str());
  }
  // Character devices, fifos: whatever `type` (AE_IF*) says, with no data.
  ArchiveBuilder& Special(const std::string& name, unsigned type) { return Add(name, type, 0644, "", nullptr, nullptr); }

  // Finishes the archive; returns false when anything failed to write.
  bool Close() {
    if (out_ == nullptr) return ok_;
    ok_ = archive_write_close(out_) == ARCHIVE_OK && ok_;
    archive_write_free(out_);
    out_ = nullptr;
    return ok_;
  }

 private:
  ArchiveBuilder& Add(const std::string& name, unsigned type, int perm, const std::string& content,
                      const char* symlink, const char* hardlink) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name.c_str());
    archive_entry_set_filetype(entry, type);
    archive_entry_set_perm(entry, perm);
    archive_entry_set_size(entry, static_cast<la_int64_t>(content.size()));
    archive_entry_set_mtime(entry, 1700000000, 0);
    if (symlink != nullptr) archive_entry_set_symlink(entry, symlink);
    if (hardlink != nullptr) archive_entry_set_hardlink(entry, hardlink);
    if (archive_write_header(out_, entry) < ARCHIVE_WARN) ok_ = false;
    if (!content.empty() && archive_write_data(out_, content.data(), content.size()) < 0) ok_ = false;
    archive_entry_free(entry);
    return *this;
  }

  struct archive* out_;
  bool ok_ = false;
};

}  // namespace stoke::archive::testing
