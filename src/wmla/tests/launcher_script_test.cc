#include "wmla/launcher_script.h"

#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace stoke::wmla {
namespace {

namespace fs = std::filesystem;

// Runs the real launcher with /usr/bin/python3 in a scratch job layout (work/, result/, logs/).
class LauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("wmla-launch-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    for (const char* d : {"work/.wmla", "work/code", "result", "logs"}) fs::create_directories(root_ / d);
    Write("work/.wmla/launch.py", std::string(LauncherScript()));
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& text) { std::ofstream(root_ / rel) << text; }
  std::string Read(const std::string& rel) {
    std::ifstream in(root_ / rel);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Exit status of `launch.py ARGS` run in work/ with the job variables the server sets.
  int Launch(const std::string& args) {
    std::string cmd = "cd " + (root_ / "work").string() + " && env STOKE_JOB_ID=42 RESULT_DIR=" +
                      (root_ / "result").string() + " LOG_DIR=" + (root_ / "logs").string() +
                      " DLI_DATA_FS=/data/fs OMP_NUM_THREADS=4 timeout 60 /usr/bin/python3 .wmla/launch.py " + args +
                      " > " + (root_ / "out.txt").string() + " 2>&1";
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  fs::path root_;
};

TEST_F(LauncherTest, SetsTheWmlaEnvironmentAndCopiesConfig) {
  Write("work/config.json", R"({"lr": 0.1})");
  Write("work/code/main.py", R"(import json, os, sys
keys = ["DLI_EXECID", "APP_ID", "DATA_DIR", "CHECKPOINT_DIR", "SAVED_MODEL_DIR"]
print(json.dumps({k: os.environ[k] for k in keys}))
print(json.dumps(json.load(open("config.json"))), sys.argv[1:])
sys.stderr.write("to stderr\n")
)");
  ASSERT_EQ(Launch("--code-dir code -- /usr/bin/python3 main.py --epochs 2"), 0) << Read("out.txt");
  std::string out = Read("logs/wmla-stdout.log");
  EXPECT_NE(out.find(R"("DLI_EXECID": "wmla-42", "APP_ID": "wmla-42", "DATA_DIR": "/data/fs")"), std::string::npos) << out;
  EXPECT_NE(out.find("\"CHECKPOINT_DIR\": \"" + (root_ / "result" / "checkpoint").string() + "\""), std::string::npos);
  EXPECT_NE(out.find(R"({"lr": 0.1} ['--epochs', '2'])"), std::string::npos) << out;
  EXPECT_EQ(out.find("to stderr"), std::string::npos);
  EXPECT_EQ(Read("logs/wmla-stderr.log"), "to stderr\n");
  EXPECT_TRUE(fs::is_directory(root_ / "result" / "model"));
}

TEST_F(LauncherTest, GridIndexBecomesTheRowsValues) {
  Write("work/config.json", R"({"_wmla_experiment": 1})");
  Write("work/.wmla/grid.json", R"([{"lr": 0.1, "opt": "Adam"}, {"lr": 0.01, "opt": "SGD"}])");
  Write("work/code/main.py", "import json\nprint(json.dumps(json.load(open('config.json')), sort_keys=True))\n");
  ASSERT_EQ(Launch("--code-dir code --grid .wmla/grid.json -- /usr/bin/python3 main.py"), 0) << Read("out.txt");
  EXPECT_EQ(Read("logs/wmla-stdout.log"), "{\"lr\": 0.01, \"opt\": \"SGD\"}\n");
}

TEST_F(LauncherTest, RunsRanksWithRendezvousVariables) {
  Write("work/code/rank.py", R"(import os
print("rank", os.environ["RANK"], "of", os.environ["WORLD_SIZE"], os.environ["MASTER_ADDR"],
      int(os.environ["MASTER_PORT"]) > 0, os.environ["LOCAL_RANK"], os.environ["OMP_NUM_THREADS"], flush=True)
)");
  ASSERT_EQ(Launch("--workers 3 --code-dir code -- /usr/bin/python3 rank.py"), 0) << Read("out.txt");
  std::string out = Read("logs/wmla-stdout.log");
  for (int r = 0; r < 3; ++r) {
    std::string line = "rank " + std::to_string(r) + " of 3 127.0.0.1 True " + std::to_string(r) + " 1";
    EXPECT_NE(out.find(line), std::string::npos) << out;
  }
}

TEST_F(LauncherTest, AFailingRankStopsTheOthersAndSetsTheStatus) {
  Write("work/code/fail.py", R"(import os, sys, time
if os.environ["RANK"] == "1":
    sys.exit(3)
time.sleep(60)
)");
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Launch("--workers 2 --code-dir code -- /usr/bin/python3 fail.py"), 3) << Read("out.txt");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_NE(Read("logs/wmla-stderr.log").find("rank 1 failed with status 3"), std::string::npos);
  EXPECT_EQ(Launch("--code-dir code -- /no/such/program"), 127);
}

}  // namespace
}  // namespace stoke::wmla
