#include "api/experiment_json.h"

#include <gtest/gtest.h>

#include "api/yaml_json.h"

namespace stoke::api {
namespace {

using nlohmann::json;

json ValidSpec() {
  return json::parse(R"({
    "name": "demo",
    "objective": {"metric": "accuracy", "direction": "maximize"},
    "space": {"lr": {"type": "float", "min": 0.0001, "max": 0.1, "log": true},
              "batch": {"type": "int", "min": 16, "max": 128, "step": 16},
              "opt": {"type": "categorical", "choices": ["sgd", "adam"]}},
    "algorithm": {"name": "asha", "resource": "epochs", "min_resource": 1, "max_resource": 9, "reduction_factor": 3},
    "budget": {"max_trials": 16, "max_parallel": 4},
    "seed": 7,
    "trial": {"argv": ["python3", "train.py", "--lr", "{lr}", "--epochs", "{epochs}"]}
  })");
}

TEST(ParseExperimentSpecTest, ValidAsha) {
  auto spec = ParseExperimentSpec(ValidSpec());
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_EQ(spec->metric, "accuracy");
  EXPECT_TRUE(spec->maximize);
  EXPECT_EQ(spec->resource_param, "epochs");
  EXPECT_EQ(spec->config.method, hpo::MethodKind::kAsha);
  EXPECT_EQ(spec->config.halving.max_resource, 9);
  EXPECT_EQ(spec->config.budget.max_parallel, 4);
  EXPECT_EQ(spec->config.space.params.size(), 3u);
  // The stored text parses back to the same config.
  auto again = ParseExperimentSpecText(spec->spec_json);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->config.seed, 7u);
}

TEST(ParseExperimentSpecTest, YamlSpec) {
  auto body = ParseYamlText(R"(
name: y
objective: {metric: loss}
space:
  lr: {type: float, min: 0.001, max: 1}
  tag: {type: fixed, value: "007"}
algorithm: tpe
trial: {argv: [echo, "{lr}"]}
)");
  ASSERT_TRUE(body.has_value()) << body.error().ToString();
  EXPECT_EQ((*body)["space"]["tag"]["value"], "007");  // quoted stays a string
  auto spec = ParseExperimentSpec(*body);
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_EQ(spec->config.sampler, hpo::SamplerKind::kTpe);
  EXPECT_FALSE(spec->maximize);
}

TEST(ParseExperimentSpecTest, BadSpecsNameTheField) {
  struct Case {
    std::string path;  // json pointer to change
    json value;
    std::string field;
  };
  std::vector<Case> cases = {
      {"/space", json::object(), "space"},
      {"/space/lr/min", 1.0, "space.lr.min"},                    // min > max
      {"/space/lr/min", 0.0, "space.lr.min"},                    // log with bound <= 0
      {"/space/batch/type", "complex", "space.batch.type"},
      {"/space/opt/choices", json::array(), "space.opt.choices"},
      {"/space/opt/choices", {"a", "a"}, "space.opt.choices.1"},
      {"/algorithm/name", "simulated-annealing", "algorithm.name"},
      {"/algorithm/min_resource", 20, "algorithm.min_resource"},
      {"/objective/direction", "up", "objective.direction"},
      {"/objective/metric", "", "objective.metric"},
      {"/budget/max_trials", 0, "budget.max_trials"},
      {"/budget/max_parallel", -1, "budget.max_parallel"},
      {"/trial/argv/3", "{momentum}", "trial.argv.3"},
      {"/trial/resources", {{"cpus", 0}}, "trial.resources.cpus"},
      {"/extra", true, "extra"},
  };
  for (const auto& c : cases) {
    json body = ValidSpec();
    body[json::json_pointer(c.path)] = c.value;
    auto spec = ParseExperimentSpec(body);
    ASSERT_FALSE(spec.has_value()) << c.path;
    EXPECT_EQ(spec.error().field(), c.field) << c.path << " -> " << spec.error().ToString();
  }
}

TEST(ParseExperimentSpecTest, ResourceMustNotBeSearched) {
  json body = ValidSpec();
  body["space"]["epochs"] = {{"type", "int"}, {"min", 1}, {"max", 9}};
  auto spec = ParseExperimentSpec(body);
  ASSERT_FALSE(spec.has_value());
  EXPECT_EQ(spec.error().field(), "algorithm.resource");
}

TEST(ParseYamlTextTest, DuplicateKeysAndSyntaxErrors) {
  EXPECT_FALSE(ParseYamlText("a: 1\na: 2\n").has_value());
  auto bad = ParseYamlText("a: [1, 2\n");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("line"), std::string::npos);
}

}  // namespace
}  // namespace stoke::api
