#include "archive/archive_extractor.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "archive/tests/archive_builder.h"
#include "archive/tests/test_dir.h"

namespace stoke::archive {
namespace {

namespace fs = std::filesystem;
using testing::ArchiveBuilder;
using testing::BuildFormat;

class ArchiveExtractorTest : public testing::ScratchDirTest {
 protected:
  // Extraction must fail with `code`, name `needle` in the message, and leave out/ empty.
  void ExpectRefused(const std::string& archive, StatusCode code, const std::string& needle,
                     const ExtractLimits& limits = {}) {
    Status status = ExtractArchive(archive, Out(), limits);
    EXPECT_EQ(status.code(), code) << status.ToString();
    EXPECT_EQ(status.field(), "code") << status.ToString();
    EXPECT_NE(status.message().find(needle), std::string::npos) << status.ToString();
    EXPECT_TRUE(OutContents().empty()) << "left behind: " << *OutContents().begin();
  }

  void BuildProject(const std::string& path, BuildFormat format) {
    ArchiveBuilder b(path, format);
    b.Dir("proj/")
        .File("proj/train.py", "print('hi')\n", 0755)
        .Dir("proj/data/")
        .File("proj/data/a.csv", "x,y\n1,2\n")
        .Symlink("proj/latest.csv", "data/a.csv")
        .File("proj/empty.txt", "");
    ASSERT_TRUE(b.Close());
  }

  void ExpectProject() {
    EXPECT_EQ(ReadFile(Out() + "/proj/train.py"), "print('hi')\n");
    EXPECT_EQ(ReadFile(Out() + "/proj/data/a.csv"), "x,y\n1,2\n");
    EXPECT_TRUE(fs::is_symlink(Out() + "/proj/latest.csv"));
    EXPECT_EQ(fs::read_symlink(Out() + "/proj/latest.csv"), "data/a.csv");
    EXPECT_EQ(ReadFile(Out() + "/proj/latest.csv"), "x,y\n1,2\n");
    EXPECT_TRUE(fs::is_regular_file(Out() + "/proj/empty.txt"));
    EXPECT_NE(fs::status(Out() + "/proj/train.py").permissions() & fs::perms::owner_exec, fs::perms::none);
    EXPECT_EQ(fs::status(Out() + "/proj/data/a.csv").permissions() & fs::perms::owner_exec, fs::perms::none);
    // Nothing but the destination itself in out/ (no temp dir left over).
    EXPECT_EQ(fs::directory_iterator(root_ / "out")->path().filename(), "dest");
  }
};

TEST_F(ArchiveExtractorTest, ExtractsTar) {
  BuildProject(In("p.tar"), BuildFormat::kTar);
  ASSERT_TRUE(ExtractArchive(In("p.tar"), Out()).ok());
  ExpectProject();
}

TEST_F(ArchiveExtractorTest, ExtractsTarGz) {
  BuildProject(In("p.tgz"), BuildFormat::kTarGz);
  ASSERT_TRUE(ExtractArchive(In("p.tgz"), Out()).ok());
  ExpectProject();
}

TEST_F(ArchiveExtractorTest, ExtractsZip) {
  BuildProject(In("p.zip"), BuildFormat::kZip);
  Status status = ExtractArchive(In("p.zip"), Out());
  ASSERT_TRUE(status.ok()) << status.ToString();
  ExpectProject();
}

TEST_F(ArchiveExtractorTest, DetectsFormatByContentNotName) {
  // WMLA clients gzip their "x.modelDir.tar" despite the name; a zip named .tar.gz must work too.
  BuildProject(In("resnet.modelDir.tar"), BuildFormat::kTarGz);
  ASSERT_TRUE(ExtractArchive(In("resnet.modelDir.tar"), Out()).ok());
  ExpectProject();
  BuildProject(In("odd.tar.gz"), BuildFormat::kZip);
  ASSERT_TRUE(ExtractArchive(In("odd.tar.gz"), Out("second")).ok());
  EXPECT_EQ(ReadFile(Out("second") + "/proj/train.py"), "print('hi')\n");
}

TEST_F(ArchiveExtractorTest, ExtractsFromMemory) {
  BuildProject(In("p.tgz"), BuildFormat::kTarGz);
  std::string bytes = ReadFile(In("p.tgz"));
  ASSERT_TRUE(ExtractArchiveFromMemory(bytes, Out()).ok());
  ExpectProject();
  BuildProject(In("p.zip"), BuildFormat::kZip);  // zip reads its central directory: needs seeking
  ASSERT_TRUE(ExtractArchiveFromMemory(ReadFile(In("p.zip")), Out("from_zip")).ok());
  EXPECT_EQ(ReadFile(Out("from_zip") + "/proj/data/a.csv"), "x,y\n1,2\n");
}

TEST_F(ArchiveExtractorTest, AcceptsEmptyExistingDestinationAndInternalHardlink) {
  fs::create_directory(Out());
  {
    ArchiveBuilder b(In("h.tar"), BuildFormat::kTar);
    b.File("./a.txt", "same bytes").Hardlink("b.txt", "a.txt");
    ASSERT_TRUE(b.Close());
  }
  Status status = ExtractArchive(In("h.tar"), Out());
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(ReadFile(Out() + "/b.txt"), "same bytes");
  EXPECT_EQ(fs::hard_link_count(Out() + "/a.txt"), 2u);
}

TEST_F(ArchiveExtractorTest, RefusesNonEmptyDestination) {
  BuildProject(In("p.tar"), BuildFormat::kTar);
  fs::create_directory(Out());
  WriteFile(Out() + "/keep.txt", "mine");
  Status status = ExtractArchive(In("p.tar"), Out());
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(OutContents(), (std::set<std::string>{"dest", "dest/keep.txt"}));
}

TEST_F(ArchiveExtractorTest, RefusesMissingArchive) {
  EXPECT_EQ(ExtractArchive(In("nope.tar"), Out()).code(), StatusCode::kNotFound);
  EXPECT_TRUE(OutContents().empty());
}

TEST_F(ArchiveExtractorTest, RefusesDotDot) {
  ArchiveBuilder b(In("x.tar"), BuildFormat::kTar);
  b.File("ok.txt", "fine").File("../evil.txt", "pwned");
  ASSERT_TRUE(b.Close());
  ExpectRefused(In("x.tar"), StatusCode::kInvalidArgument, "../evil.txt");
  EXPECT_FALSE(fs::exists(root_ / "evil.txt"));
}

TEST_F(ArchiveExtractorTest, RefusesDotDotInZip) {
  ArchiveBuilder b(In("x.zip"), BuildFormat::kZip);
  b.File("ok.txt", "fine").File("a/../../evil.txt", "pwned");
  ASSERT_TRUE(b.Close());
  ExpectRefused(In("x.zip"), StatusCode::kInvalidArgument, "a/../../evil.txt");
}

TEST_F(ArchiveExtractorTest, RefusesAbsolutePath) {
  ArchiveBuilder b(In("x.tgz"), BuildFormat::kTarGz);
  b.File((root_ / "abs.txt").string(), "pwned");
  ASSERT_TRUE(b.Close());
  ExpectRefused(In("x.tgz"), StatusCode::kInvalidArgument, "absolute");
  EXPECT_FALSE(fs::exists(root_ / "abs.txt"));
}

TEST_F(ArchiveExtractorTest, RefusesControlCharacters) {
  ArchiveBuilder b(In("x.tar"), BuildFormat::kTar);
  b.File("bad\x1b[2Jname", "x");
  ASSERT_TRUE(b.Close());
  ExpectRefused(In("x.tar"), StatusCode::kInvalidArgument, "bad\\x1b[2Jname");
}

TEST_F(ArchiveExtractorTest, RefusesEscapingSymlinks) {
  {
    ArchiveBuilder b(In("up.tar"), BuildFormat::kTar);
    b.Dir("d/").Symlink("d/link", "../../outside");
    ASSERT_TRUE(b.Close());
  }
  ExpectRefused(In("up.tar"), StatusCode::kInvalidArgument, "d/link");
  {
    ArchiveBuilder b(In("abs.tar"), BuildFormat::kTar);
    b.Symlink("etc", "/etc");
    ASSERT_TRUE(b.Close());
  }
  ExpectRefused(In("abs.tar"), StatusCode::kInvalidArgument, "absolute path \"/etc\"");
}

TEST_F(ArchiveExtractorTest, RefusesSymlinkThenWriteThrough) {
  // The classic attack: a link to somewhere, then a file "through" it.
  fs::create_directory(root_ / "victim");
  ArchiveBuilder b(In("x.tar"), BuildFormat::kTar);
  b.Symlink("sneaky", "../../victim").File("sneaky/owned.txt", "pwned");
  ASSERT_TRUE(b.Close());
  ExpectRefused(In("x.tar"), StatusCode::kInvalidArgument, "sneaky");
  EXPECT_FALSE(fs::exists(root_ / "victim" / "owned.txt"));
  // Even a link that points inside may not be written through.
  ArchiveBuilder c(In("y.tar"), BuildFormat::kTar);
  c.Dir("real/").Symlink("alias", "real").File("alias/f.txt", "x");
  ASSERT_TRUE(c.Close());
  ExpectRefused(In("y.tar"), StatusCode::kInvalidArgument, "written through the symlink \"alias\"");
}

TEST_F(ArchiveExtractorTest, RefusesSymlinkChainThatEscapes) {
  // Each link looks harmless alone; together "s" resolves to the parent of the destination.
  ArchiveBuilder b(In("x.tar"), BuildFormat::kTar);
  b.Symlink("s", "x/l/../..").Dir("x/").Symlink("x/l", "..");
  ASSERT_TRUE(b.Close());
  ExpectRefused(In("x.tar"), StatusCode::kInvalidArgument, "resolves outside");
}

TEST_F(ArchiveExtractorTest, RefusesHardlinkOutside) {
  {
    ArchiveBuilder b(In("x.tar"), BuildFormat::kTar);
    b.File("a.txt", "x").Hardlink("h", "../../../etc/passwd");
    ASSERT_TRUE(b.Close());
  }
  ExpectRefused(In("x.tar"), StatusCode::kInvalidArgument, "hard link");
  {
    ArchiveBuilder b(In("y.tar"), BuildFormat::kTar);
    b.Hardlink("h", "later.txt").File("later.txt", "x");
    ASSERT_TRUE(b.Close());
  }
  ExpectRefused(In("y.tar"), StatusCode::kInvalidArgument, "not a regular file extracted earlier");
}

TEST_F(ArchiveExtractorTest, RefusesDeviceAndFifo) {
  {
    ArchiveBuilder b(In("dev.tar"), BuildFormat::kTar);
    b.File("ok.txt", "x").Special("null", AE_IFCHR);
    ASSERT_TRUE(b.Close());
  }
  ExpectRefused(In("dev.tar"), StatusCode::kInvalidArgument, "device");
  {
    ArchiveBuilder b(In("fifo.tar"), BuildFormat::kTar);
    b.Special("pipe", AE_IFIFO);
    ASSERT_TRUE(b.Close());
  }
  ExpectRefused(In("fifo.tar"), StatusCode::kInvalidArgument, "fifo");
}

TEST_F(ArchiveExtractorTest, RefusesDuplicateAndFileAsParent) {
  {
    ArchiveBuilder b(In("dup.tar"), BuildFormat::kTar);
    b.File("a.txt", "1").File("a.txt", "2");
    ASSERT_TRUE(b.Close());
  }
  ExpectRefused(In("dup.tar"), StatusCode::kInvalidArgument, "more than once");
  {
    ArchiveBuilder b(In("par.tar"), BuildFormat::kTar);
    b.File("a", "1").File("a/b", "2");
    ASSERT_TRUE(b.Close());
  }
  ExpectRefused(In("par.tar"), StatusCode::kInvalidArgument, "non-directory");
}

TEST_F(ArchiveExtractorTest, RefusesBombOverSizeCap) {
  ExtractLimits limits;
  limits.max_bytes = 1 << 20;
  {
    ArchiveBuilder b(In("bomb.tgz"), BuildFormat::kTarGz);
    b.File("zeros", std::string(4 << 20, '\0'));
    ASSERT_TRUE(b.Close());
  }
  EXPECT_LT(fs::file_size(In("bomb.tgz")), 64u << 10);  // it really is a small file
  ExpectRefused(In("bomb.tgz"), StatusCode::kResourceExhausted, "size limit", limits);
  {
    // Many files each under the cap, together over it; in a zip this time.
    ArchiveBuilder b(In("many.zip"), BuildFormat::kZip);
    for (int i = 0; i < 5; ++i) b.File("part" + std::to_string(i), std::string(300 << 10, 'a'));
    ASSERT_TRUE(b.Close());
  }
  ExpectRefused(In("many.zip"), StatusCode::kResourceExhausted, "part3", limits);
}

TEST_F(ArchiveExtractorTest, RefusesTooManyEntries) {
  ExtractLimits limits;
  limits.max_entries = 10;
  {
    ArchiveBuilder b(In("many.tar"), BuildFormat::kTar);
    for (int i = 0; i < 11; ++i) b.File("f" + std::to_string(i), "x");
    ASSERT_TRUE(b.Close());
  }
  ExpectRefused(In("many.tar"), StatusCode::kResourceExhausted, "more than 10 entries", limits);
  {
    ArchiveBuilder b(In("ten.tar"), BuildFormat::kTar);
    for (int i = 0; i < 10; ++i) b.File("f" + std::to_string(i), "x");
    ASSERT_TRUE(b.Close());
  }
  EXPECT_TRUE(ExtractArchive(In("ten.tar"), Out(), limits).ok());
}

TEST_F(ArchiveExtractorTest, RefusesGarbageEmptyAndTruncated) {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919 + 13) % 251);
  WriteFile(In("garbage.tar"), garbage);
  ExpectRefused(In("garbage.tar"), StatusCode::kInvalidArgument, "not a readable");
  WriteFile(In("empty.tar"), "");
  ExpectRefused(In("empty.tar"), StatusCode::kInvalidArgument, "empty");
  EXPECT_EQ(ExtractArchiveFromMemory("", Out()).code(), StatusCode::kInvalidArgument);

  // A real tar.gz cut in half: some entries read fine, then the stream breaks.
  {
    ArchiveBuilder b(In("full.tgz"), BuildFormat::kTarGz);
    b.File("a.txt", "fine");
    std::string noise;
    for (int i = 0; i < (256 << 10); ++i) noise += static_cast<char>((i * 2654435761u) >> 24);
    b.File("b.bin", noise);
    ASSERT_TRUE(b.Close());
  }
  std::string full = ReadFile(In("full.tgz"));
  WriteFile(In("cut.tgz"), full.substr(0, full.size() / 2));
  Status status = ExtractArchive(In("cut.tgz"), Out());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_TRUE(OutContents().empty());
}

}  // namespace
}  // namespace stoke::archive
