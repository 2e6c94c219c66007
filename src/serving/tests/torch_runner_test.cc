#include "serving/torch_runner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace stoke::serving {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A TorchScript MLP (64 -> 32 -> 10) made by python3-torch, with Python's own outputs for
// five input rows, so the C++ path is checked against the reference implementation.
class TorchRunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("stoke-serving-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::string script = (dir_ / "make.py").string();
    std::ofstream(script) << R"(
import json, sys, torch
torch.manual_seed(0)
m = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
torch.jit.script(m).save(sys.argv[1] + "/model.pt")
x = torch.randn(5, 64)
with torch.no_grad():
    y = m(x)
json.dump({"x": x.tolist(), "y": y.tolist()}, open(sys.argv[1] + "/ref.json", "w"))
)";
    std::string cmd = std::string(STOKE_PYTHON) + " " + script + " " + dir_.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path dir_;
};
fs::path TorchRunnerTest::dir_;

TEST_F(TorchRunnerTest, MatchesPythonOutputs) {
  auto run = LoadTorchRunner({.model_path = (dir_ / "model.pt").string(), .threads = 1});
  ASSERT_TRUE(run.has_value()) << run.error().ToString();
  json ref = json::parse(std::ifstream(dir_ / "ref.json"));
  Tensor in;
  in.shape = {5, 64};
  for (const auto& row : ref["x"]) for (const auto& v : row) in.values.push_back(v.get<float>());
  auto out = (*run)(in);
  ASSERT_TRUE(out.has_value()) << out.error().ToString();
  ASSERT_EQ(out->shape, (std::vector<int64_t>{5, 10}));
  for (int r = 0; r < 5; ++r) {
    for (int c = 0; c < 10; ++c) EXPECT_NEAR(out->values[r * 10 + c], ref["y"][r][c].get<float>(), 1e-5);
  }
}

TEST_F(TorchRunnerTest, WrongShapeIsInvalidArgumentNotACrash) {
  auto run = LoadTorchRunner({.model_path = (dir_ / "model.pt").string()});
  ASSERT_TRUE(run.has_value());
  Tensor in{{2, 63}, std::vector<float>(126, 0.5f)};
  auto out = (*run)(in);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.error().field(), "instances");
  EXPECT_NE(out.error().message().find("[63]"), std::string::npos) << out.error().message();
  EXPECT_LT(out.error().message().size(), 600u) << out.error().message();
}

TEST_F(TorchRunnerTest, MissingOrBrokenModelIsReported) {
  auto missing = LoadTorchRunner({.model_path = (dir_ / "nope.pt").string()});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().field(), "model");
  std::ofstream(dir_ / "junk.pt") << "not a model";
  EXPECT_FALSE(LoadTorchRunner({.model_path = (dir_ / "junk.pt").string()}).has_value());
}

}  // namespace
}  // namespace stoke::serving
