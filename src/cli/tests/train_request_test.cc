#include "cli/train_request.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace stoke::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class TrainRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("stoke-train-request-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "sub");
    for (const char* name : {"model.pt", "train.npz", "val.npz", "sub/train.npz"}) std::ofstream(dir_ / name) << "x";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const char* name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(TrainRequestTest, UploadsLocalFilesUnderTheirNames) {
  TrainRequestOptions o;
  o.model = Path("model.pt");
  o.data = Path("train.npz");
  o.val = Path("val.npz");
  o.workers = "1:3";
  o.global_batch = 64;
  o.lr = 0.05;
  o.set = {"nesterov=true", "optimizer=adam", "seed=7"};
  o.job.cpus = 2;
  o.job.priority = 5;
  auto request = BuildTrainRequest(o);
  ASSERT_TRUE(request.has_value()) << request.error().ToString();
  EXPECT_EQ(request->uploads, (std::vector<UploadFile>{{Path("model.pt"), "model.pt"},
                                                       {Path("train.npz"), "train.npz"},
                                                       {Path("val.npz"), "val.npz"}}));
  const json& spec = request->spec;
  EXPECT_EQ(spec["type"], "elastic");
  EXPECT_EQ(spec["workers"], (json{{"min", 1}, {"max", 3}}));
  EXPECT_EQ(spec["train"], (json{{"model", "model.pt"}, {"data", "train.npz"}, {"val", "val.npz"}, {"global_batch", 64},
                                 {"lr", 0.05}, {"nesterov", true}, {"optimizer", "adam"}, {"seed", 7}}));
  EXPECT_EQ(spec["resources"]["cpus"], 2);
  EXPECT_EQ(spec["priority"], 5);
}

TEST_F(TrainRequestTest, WithADirectoryPathsStayAsGiven) {
  TrainRequestOptions o;
  o.model = "nets/model.pt";
  o.data = "data/train.npz";
  o.job.code_dir = dir_.string();
  auto request = BuildTrainRequest(o);
  ASSERT_TRUE(request.has_value()) << request.error().ToString();
  EXPECT_TRUE(request->uploads.empty());
  EXPECT_EQ(request->spec["train"]["model"], "nets/model.pt");
  EXPECT_EQ(request->spec["workers"], (json{{"min", 1}, {"max", 1}}));
}

TEST_F(TrainRequestTest, ErrorsNameTheFlag) {
  auto field_of = [&](TrainRequestOptions o) {
    auto request = BuildTrainRequest(o);
    return request.has_value() ? std::string("(accepted)") : request.error().field();
  };
  TrainRequestOptions good;
  good.model = Path("model.pt");
  good.data = Path("train.npz");
  ASSERT_EQ(field_of(good), "(accepted)");

  TrainRequestOptions o = good;
  o.data = Path("missing.npz");
  EXPECT_EQ(field_of(o), "data");
  o = good;
  o.val = Path("sub/train.npz");  // same base name as --data
  EXPECT_EQ(field_of(o), "val");
  for (const char* bad : {"0", "3:2", "x", "1:", ":4", "2:y"}) {
    o = good;
    o.workers = bad;
    EXPECT_EQ(field_of(o), "workers") << bad;
  }
  o = good;
  o.set = {"lr"};
  EXPECT_EQ(field_of(o), "set.0");
  o = good;
  o.job.env = {"1X=2"};
  EXPECT_EQ(field_of(o), "env.0");
}

TEST(WorkerRangeTest, ParsesBothForms) {
  EXPECT_EQ(ParseWorkerRange("4").value(), std::make_pair(4, 4));
  EXPECT_EQ(ParseWorkerRange("1:4").value(), std::make_pair(1, 4));
}

}  // namespace
}  // namespace stoke::cli
