#include "archive/archive_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "archive/archive_extractor.h"
#include "archive/tests/test_dir.h"

namespace stoke::archive {
namespace {

namespace fs = std::filesystem;

struct ListedEntry {
  std::string name;
  unsigned type;
  std::string symlink;
  bool operator==(const ListedEntry&) const = default;
};

// Reads back the entry list of an archive with libarchive's reader.
std::vector<ListedEntry> ListArchive(const std::string& path) {
  std::vector<ListedEntry> out;
  struct archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  archive_read_support_format_zip(a);
  if (archive_read_open_filename(a, path.c_str(), 65536) == ARCHIVE_OK) {
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      const char* link = archive_entry_symlink(e);
      std::string name = archive_entry_pathname(e);
      if (!name.empty() && name.back() == '/') name.pop_back();
      out.push_back({name, archive_entry_filetype(e), link != nullptr ? link : ""});
    }
  }
  archive_read_free(a);
  return out;
}

class ArchiveWriterTest : public testing::ScratchDirTest {
 protected:
  // A small code tree under in/src.
  std::string MakeTree() {
    std::string src = In("src");
    fs::create_directories(src + "/pkg/sub");
    fs::create_directories(src + "/empty_dir");
    WriteFile(src + "/train.py", "import torch\n");
    fs::permissions(src + "/train.py", fs::perms(0755));
    WriteFile(src + "/pkg/__init__.py", "");
    std::string binary;
    for (int i = 0; i < 300000; ++i) binary += static_cast<char>(i * 31 % 256);
    WriteFile(src + "/pkg/sub/weights.bin", binary);
    fs::create_symlink("pkg/sub/weights.bin", src + "/weights");
    return src;
  }

  void ExpectSameTree(const std::string& a, const std::string& b) {
    std::vector<std::string> names_a, names_b;
    for (const auto& e : fs::recursive_directory_iterator(a)) names_a.push_back(fs::relative(e.path(), a));
    for (const auto& e : fs::recursive_directory_iterator(b)) names_b.push_back(fs::relative(e.path(), b));
    std::sort(names_a.begin(), names_a.end());
    std::sort(names_b.begin(), names_b.end());
    ASSERT_EQ(names_a, names_b);
    for (const std::string& name : names_a) {
      fs::path pa = fs::path(a) / name, pb = fs::path(b) / name;
      ASSERT_EQ(fs::symlink_status(pa).type(), fs::symlink_status(pb).type()) << name;
      if (fs::is_symlink(pa)) {
        EXPECT_EQ(fs::read_symlink(pa), fs::read_symlink(pb)) << name;
      } else if (fs::is_regular_file(pa)) {
        EXPECT_EQ(ReadFile(pa), ReadFile(pb)) << name;
        EXPECT_EQ(fs::status(pa).permissions(), fs::status(pb).permissions()) << name;
      }
    }
  }
};

TEST_F(ArchiveWriterTest, TarGzRoundTrip) {
  std::string src = MakeTree();
  ASSERT_TRUE(WriteArchive(src, In("out.tgz"), ArchiveFormat::kTarGz).ok());
  std::vector<ListedEntry> listed = ListArchive(In("out.tgz"));
  std::vector<ListedEntry> expected = {
      {"empty_dir", AE_IFDIR, ""},      {"pkg", AE_IFDIR, ""},        {"pkg/__init__.py", AE_IFREG, ""},
      {"pkg/sub", AE_IFDIR, ""},        {"pkg/sub/weights.bin", AE_IFREG, ""},
      {"train.py", AE_IFREG, ""},       {"weights", AE_IFLNK, "pkg/sub/weights.bin"},
  };
  EXPECT_EQ(listed, expected);
  Status status = ExtractArchive(In("out.tgz"), Out());
  ASSERT_TRUE(status.ok()) << status.ToString();
  ExpectSameTree(src, Out());
}

TEST_F(ArchiveWriterTest, ZipRoundTrip) {
  std::string src = MakeTree();
  ASSERT_TRUE(WriteArchive(src, In("out.zip"), ArchiveFormat::kZip).ok());
  EXPECT_EQ(ReadFile(In("out.zip")).substr(0, 2), "PK");
  Status status = ExtractArchive(In("out.zip"), Out());
  ASSERT_TRUE(status.ok()) << status.ToString();
  ExpectSameTree(src, Out());
}

TEST_F(ArchiveWriterTest, StoresOutsideSymlinkAsLinkWithoutFollowing) {
  std::string src = In("src");
  fs::create_directories(src);
  fs::create_directory_symlink("/etc", src + "/etc_link");
  ASSERT_TRUE(WriteArchive(src, In("out.tgz"), ArchiveFormat::kTarGz).ok());
  EXPECT_EQ(ListArchive(In("out.tgz")), (std::vector<ListedEntry>{{"etc_link", AE_IFLNK, "/etc"}}));
  // And the extractor refuses to recreate it.
  EXPECT_EQ(ExtractArchive(In("out.tgz"), Out()).code(), StatusCode::kInvalidArgument);
}

TEST_F(ArchiveWriterTest, OutputInsideSourceIsNotPackedIntoItself) {
  std::string src = MakeTree();
  ASSERT_TRUE(WriteArchive(src, src + "/self.tgz", ArchiveFormat::kTarGz).ok());
  ASSERT_TRUE(WriteArchive(src, src + "/self.tgz", ArchiveFormat::kTarGz).ok());  // old copy present now
  for (const ListedEntry& e : ListArchive(src + "/self.tgz")) EXPECT_EQ(e.name.find("self.tgz"), std::string::npos);
  EXPECT_EQ(ListArchive(src + "/self.tgz").size(), 7u);
  for (const auto& e : fs::directory_iterator(src)) EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos);
}

TEST_F(ArchiveWriterTest, PackDirectoryExcludesVcsAndCaches) {
  std::string src = MakeTree();
  fs::create_directories(src + "/.git/objects");
  WriteFile(src + "/.git/HEAD", "ref: refs/heads/main\n");
  fs::create_directories(src + "/pkg/__pycache__");
  WriteFile(src + "/pkg/__pycache__/x.pyc", "junk");
  ASSERT_TRUE(PackDirectory(src, In("code.tgz")).ok());
  std::vector<ListedEntry> listed = ListArchive(In("code.tgz"));
  EXPECT_EQ(listed.size(), 7u);
  for (const ListedEntry& e : listed) {
    EXPECT_EQ(e.name.find(".git"), std::string::npos) << e.name;
    EXPECT_EQ(e.name.find("__pycache__"), std::string::npos) << e.name;
  }
}

TEST_F(ArchiveWriterTest, RefusesOverCapAndLeavesNoFile) {
  std::string src = MakeTree();
  Status status = PackDirectory(src, In("code.tgz"), 1000);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted) << status.ToString();
  for (const auto& e : fs::directory_iterator(root_ / "in")) EXPECT_EQ(e.path().filename(), "src");
}

TEST_F(ArchiveWriterTest, MissingOrNonDirectorySource) {
  EXPECT_EQ(WriteArchive(In("nope"), In("x.tgz"), ArchiveFormat::kTarGz).code(), StatusCode::kNotFound);
  WriteFile(In("file"), "x");
  EXPECT_EQ(WriteArchive(In("file"), In("x.tgz"), ArchiveFormat::kZip).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(In("x.tgz")));
}

}  // namespace
}  // namespace stoke::archive
