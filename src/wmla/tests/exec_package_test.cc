#include "wmla/exec_package.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "archive/archive_extractor.h"
#include "archive/archive_writer.h"
#include "wmla/launcher_script.h"

namespace stoke::wmla {
namespace {

namespace fs = std::filesystem;

class StagedCodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("wmla-stage-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  std::string ReadAll(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // A tar(.gz) of a directory named `top` holding main.py, as dlicmd --model-dir makes it.
  std::string ModelDirTar(const std::string& top, bool gzip) {
    fs::path src = root_ / "src";
    Write(src / top / "main.py", "print('hi')\n");
    Write(src / top / "lib" / "util.py", "X = 1\n");
    fs::path out = root_ / (top + ".modelDir.tar");
    EXPECT_TRUE(archive::WriteArchive(src.string(), out.string(),
                                      gzip ? archive::ArchiveFormat::kTarGz : archive::ArchiveFormat::kZip)
                    .ok());
    return ReadAll(out);
  }
  // Unpacks the staged archive to check what a job would get.
  fs::path Unpack(StagedCode& staged) {
    auto path = staged.ArchivePath();
    EXPECT_TRUE(path) << path.error().ToString();
    fs::path dest = root_ / "unpacked";
    EXPECT_TRUE(archive::ExtractArchive(*path, dest.string()).ok());
    return dest;
  }

  fs::path root_;
};

TEST_F(StagedCodeTest, SingleScriptBecomesTheMain) {
  auto staged = StagedCode::Stage((root_ / "tmp").string(), {"main.py", "print(1)\n"}, "");
  ASSERT_TRUE(staged) << staged.error().ToString();
  EXPECT_EQ(staged->model_main(), "main.py");
  EXPECT_EQ(staged->code_subdir(), ".");
  fs::path dest = Unpack(*staged);
  EXPECT_EQ(ReadAll(dest / "main.py"), "print(1)\n");
  EXPECT_EQ(ReadAll(dest / kLauncherPath), std::string(LauncherScript()));
  EXPECT_TRUE(fs::exists(dest / ".wmla" / "emetrics.py"));
}

TEST_F(StagedCodeTest, ModelDirTarKeepsItsTopDirectory) {
  std::string tar = ModelDirTar("resnet-wmla", true);
  auto staged = StagedCode::Stage((root_ / "tmp").string(), {"resnet-wmla.modelDir.tar", tar}, "main.py",
                                  {{std::string(kGridTablePath), "[]"}});
  ASSERT_TRUE(staged) << staged.error().ToString();
  EXPECT_EQ(staged->code_subdir(), "resnet-wmla");
  fs::path dest = Unpack(*staged);
  EXPECT_TRUE(fs::exists(dest / "resnet-wmla" / "lib" / "util.py"));
  EXPECT_EQ(ReadAll(dest / kGridTablePath), "[]");
  // The staging directory goes away with the object.
  std::string archive = *staged->ArchivePath();
  { StagedCode gone = std::move(*staged); }
  EXPECT_FALSE(fs::exists(archive));
}

TEST_F(StagedCodeTest, ZipAndNestedMainWork) {
  std::string zip = ModelDirTar("proj", false);
  auto staged = StagedCode::Stage((root_ / "tmp").string(), {"anything.bin", zip}, "lib/util.py");
  ASSERT_TRUE(staged) << staged.error().ToString();
  EXPECT_EQ(staged->code_subdir(), "proj");
}

TEST_F(StagedCodeTest, RejectsWhatCannotRun) {
  std::string tar = ModelDirTar("m", true);
  auto tmp = (root_ / "tmp").string();
  EXPECT_EQ(StagedCode::Stage(tmp, {"m.modelDir.tar", tar}, "nope.py").error().field(), "args.--model-main");
  EXPECT_EQ(StagedCode::Stage(tmp, {"m.modelDir.tar", tar}, "../m/main.py").error().field(), "args.--model-main");
  EXPECT_EQ(StagedCode::Stage(tmp, {"m.modelDir.tar", tar}, "/etc/passwd").error().field(), "args.--model-main");
  EXPECT_EQ(StagedCode::Stage(tmp, {"m.modelDir.tar", "not an archive at all"}, "main.py").error().field(), "file");
  EXPECT_EQ(StagedCode::Stage(tmp, {"m.py", ""}, "").error().field(), "file");
  EXPECT_EQ(StagedCode::Stage(tmp, {"train.py", "x"}, "other.py").error().field(), "args.--model-main");
  // Nothing is left behind by failed stagings.
  EXPECT_TRUE(fs::is_empty(tmp));
}

}  // namespace
}  // namespace stoke::wmla
