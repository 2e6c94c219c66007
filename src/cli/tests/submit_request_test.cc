#include "cli/submit_request.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace stoke::cli {
namespace {

TEST(SubmitRequestTest, ParsesEnvAssignments) {
  EXPECT_EQ(ParseEnvAssignment("FOO=bar").value(), std::make_pair(std::string("FOO"), std::string("bar")));
  EXPECT_EQ(ParseEnvAssignment("_X1=").value(), std::make_pair(std::string("_X1"), std::string("")));
  EXPECT_EQ(ParseEnvAssignment("URL=a=b=c").value(), std::make_pair(std::string("URL"), std::string("a=b=c")));
  for (const char* bad : {"FOO", "=bar", "1A=x", "A-B=x", "A B=x"}) {
    EXPECT_FALSE(ParseEnvAssignment(bad).has_value()) << bad;
  }
}

TEST(SubmitRequestTest, MinimalSpecSendsOnlyArgv) {
  SubmitOptions o;
  o.argv = {"python3", "train.py", "--lr", "0.1"};
  nlohmann::json spec = BuildJobSpec(o).value();
  EXPECT_EQ(spec, nlohmann::json({{"argv", {"python3", "train.py", "--lr", "0.1"}}}));
}

TEST(SubmitRequestTest, FullSpec) {
  SubmitOptions o;
  o.argv = {"./run.sh"};
  o.gpus = 1;
  o.cpus = 4;
  o.memory = "4G";
  o.priority = 10;
  o.name = "exp";
  o.env = {"A=1", "B=x=y"};
  o.working_dir = "/data/w";
  o.max_runtime_s = 3600;
  o.hparams = R"({"lr": 0.1, "layers": [1, 2]})";
  nlohmann::json spec = BuildJobSpec(o).value();
  EXPECT_EQ(spec["resources"], nlohmann::json({{"gpus", 1}, {"cpus", 4}, {"memory", 4LL << 30}}));
  EXPECT_EQ(spec["env"], nlohmann::json({{"A", "1"}, {"B", "x=y"}}));
  EXPECT_EQ(spec["priority"], 10);
  EXPECT_EQ(spec["name"], "exp");
  EXPECT_EQ(spec["working_dir"], "/data/w");
  EXPECT_EQ(spec["max_runtime_s"], 3600);
  EXPECT_EQ(spec["hparams"]["lr"], 0.1);
  EXPECT_EQ(spec["hparams"]["layers"], nlohmann::json({1, 2}));
}

TEST(SubmitRequestTest, ErrorsNameTheFlag) {
  SubmitOptions o;
  EXPECT_EQ(BuildJobSpec(o).error().field(), "argv");
  o.argv = {"x"};
  o.memory = "4Q";
  EXPECT_EQ(BuildJobSpec(o).error().field(), "mem");
  o.memory = "";
  o.env = {"OK=1", "bad"};
  EXPECT_EQ(BuildJobSpec(o).error().field(), "env.1");
  o.env = {};
  o.gpus = -1;
  EXPECT_EQ(BuildJobSpec(o).error().field(), "gpus");
  o.gpus = std::nullopt;
  o.hparams = "[1]";
  EXPECT_EQ(BuildJobSpec(o).error().field(), "hparams");
  o.hparams = "{oops";
  EXPECT_EQ(BuildJobSpec(o).error().code(), StatusCode::kInvalidArgument);
}

TEST(SubmitRequestTest, HparamsFromFile) {
  std::string path = std::filesystem::temp_directory_path() / ("stoke_hp_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << R"({"momentum": 0.9})";
  EXPECT_EQ(ParseHparams("@" + path).value(), nlohmann::json({{"momentum", 0.9}}));
  std::filesystem::remove(path);
  auto missing = ParseHparams("@" + path);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().field(), "hparams");
}

}  // namespace
}  // namespace stoke::cli
