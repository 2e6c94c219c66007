#include "wmla/hpo_translate.h"

#include <gtest/gtest.h>

#include "api/experiment_json.h"

namespace stoke::wmla {
namespace {

using nlohmann::json;

// The body of IBM's CPD 3.5 HPO notebook, verbatim keys (typos included).
json NotebookBody() {
  return json::parse(R"({"modelSpec": {"args": "--exec-start PyTorch --workerDeviceNum 1 --cs-datastore-meta type=fs,data_path=pytorch_mnist --appName hpo-pytorch-mnist-gpu --model-main WMLA_HPO_pytorch.py --batch-size 64 --epochs 2"},
 "algoDef": {"algorithm": "Random", "maxRunTime": 60, "maxJobNum": 2, "maxParalleJobNum": 2,
             "objectiveMetric": "loss", "objective": "minimize"},
 "hyperParams": [{"name": "learning_rate", "type": "Range", "dataType": "DOUBLE",
                  "minDbVal": 0.001, "maxDbVal": 0.1, "minIntVal": 0, "maxIntVal": 0,
                  "discreteDbVal": [], "discreteIntVal": [], "discreateStrVal": []}]})");
}

json Trial() { return json{{"argv", {"/usr/bin/python3", "train.py"}}, {"resources", {{"cpus", 1}}}}; }

TEST(HpoTranslate, NotebookRandomTask) {
  auto t = ParseHpoTask(NotebookBody());
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->algorithm, "Random");
  EXPECT_EQ(t->metric, "loss");
  EXPECT_FALSE(t->maximize);
  EXPECT_EQ(t->max_jobs, 2);
  EXPECT_EQ(t->max_parallel, 2);
  EXPECT_EQ(t->max_run_time_s, 3600);
  EXPECT_EQ(t->space, json::parse(R"({"learning_rate": {"type": "float", "min": 0.001, "max": 0.1}})"));
  EXPECT_EQ(t->data_types.at("learning_rate"), "double");
  EXPECT_EQ(t->hyper_params[0]["type"], "range");
  EXPECT_EQ(t->hyper_params[0]["userDefined"], false);
  // The translation is a spec the real experiment parser accepts.
  auto spec = api::ParseExperimentSpec(BuildExperimentSpec(*t, "admin-hpo-1", Trial()));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->config.budget.max_trials, 2);
  EXPECT_EQ(spec->config.budget.max_parallel, 2);
  EXPECT_EQ(spec->metric, "loss");
  EXPECT_EQ(spec->max_time_s, 3600);
}

TEST(HpoTranslate, DiscreteFixedAndStringValues) {
  json body = NotebookBody();
  body["algoDef"]["algorithm"] = "tpe";
  body["algoDef"]["objective"] = "MAXIMIZE";
  body["algoDef"]["algoParams"] = json::parse(R"([{"name":"RandomSeed","value":"7"},{"name":"WarmUp","value":"3"}])");
  body["hyperParams"] = json::parse(R"([
    {"name":"optimizer","type":"Discrete","dataType":"STR","discreateStrVal":["sgd","adam","sgd"]},
    {"name":"batch","type":"discrete","dataType":"int","discreteIntVal":[16,"32"]},
    {"name":"momentum","type":"fix","dataType":"double","fixedVal":"0.9"},
    {"name":"layers","type":"Range","dataType":"int","minIntVal":"1","maxIntVal":4,"step":1},
    {"name":"lr","type":"Range","dataType":"double","minDbVal":0.0001,"maxDbVal":1,"power":10}])");
  auto t = ParseHpoTask(body);
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_TRUE(t->maximize);
  EXPECT_EQ(t->seed, 7u);
  EXPECT_EQ(t->algorithm_spec, json::parse(R"({"name":"tpe","n_startup_trials":3})"));
  EXPECT_EQ(t->space["optimizer"], json::parse(R"({"type":"categorical","choices":["sgd","adam"]})"));
  EXPECT_EQ(t->space["batch"], json::parse(R"({"type":"categorical","choices":[16,32]})"));
  EXPECT_EQ(t->space["momentum"], json::parse(R"({"type":"fixed","value":0.9})"));
  EXPECT_EQ(t->space["layers"], json::parse(R"({"type":"int","min":1,"max":4,"step":1.0})"));
  EXPECT_EQ(t->space["lr"]["log"], true);
  auto spec = api::ParseExperimentSpec(BuildExperimentSpec(*t, "t", Trial()));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_TRUE(spec->maximize);
  EXPECT_EQ(spec->config.sampler, hpo::SamplerKind::kTpe);
}

TEST(HpoTranslate, HyperbandTakesItsResourceOutOfTheSpace) {
  json body = NotebookBody();
  body["algoDef"]["algorithm"] = "Hyperband";
  body["algoDef"]["maxJobNum"] = 8;
  body["algoDef"]["algoParams"] =
      json::parse(R"([{"name":"ResourceName","value":"epochs"},{"name":"eta","value":"3.0"}])");
  body["hyperParams"].push_back(json::parse(R"({"name":"epochs","type":"Range","dataType":"int","minIntVal":1,"maxIntVal":9})"));
  auto t = ParseHpoTask(body);
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_FALSE(t->space.contains("epochs"));
  EXPECT_EQ(t->algorithm_spec,
            json::parse(R"({"name":"hyperband","resource":"epochs","min_resource":1,"max_resource":9,"reduction_factor":3})"));
  auto spec = api::ParseExperimentSpec(BuildExperimentSpec(*t, "hb", Trial()));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->resource_param, "epochs");
  EXPECT_EQ(spec->config.method, hpo::MethodKind::kHyperband);

  body["hyperParams"].erase(1);
  body["algoDef"]["algoParams"] = json::parse(R"([{"name":"ResourceName","value":"epochs"}])");
  auto missing = ParseHpoTask(body);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().field(), "algoDef.algoParams.ResourceValue");
}

TEST(HpoTranslate, ExperimentGridSearchIndexesItsRows) {
  json body = NotebookBody();
  body.erase("hyperParams");
  body["algoDef"]["algorithm"] = "ExperimentGridSearch";
  body["algoDef"].erase("maxJobNum");
  body["experiments"] = json::parse(R"([
    {"id":1,"hyperParams":[{"name":"learning_rate","dataType":"DOUBLE","fixedVal":"0.1"},{"name":"optimizer","dataType":"STRING","fixedVal":"Adam"}]},
    {"id":2,"fixedHyperParams":[{"name":"learning_rate","dataType":"double","fixedVal":0.01},{"name":"optimizer","dataType":"str","fixedVal":"SGD"}]},
    {"id":5,"hyperParams":[{"name":"learning_rate","dataType":"double","fixedVal":"0.5"},{"name":"optimizer","dataType":"str","fixedVal":"Adam"}]}])");
  auto t = ParseHpoTask(body);
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->max_jobs, 3);
  ASSERT_EQ(t->grid_rows.size(), 3u);
  EXPECT_EQ(t->grid_rows[0], json::parse(R"({"learning_rate":0.1,"optimizer":"Adam"})"));
  EXPECT_EQ(t->grid_rows[1], json::parse(R"({"learning_rate":0.01,"optimizer":"SGD"})"));
  EXPECT_EQ(t->grid_ids, (std::vector<int64_t>{1, 2, 5}));
  EXPECT_EQ(t->space, json::parse(R"({"_wmla_experiment":{"type":"categorical","choices":[0,1,2]}})"));
  auto spec = api::ParseExperimentSpec(BuildExperimentSpec(*t, "grid", Trial()));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->config.sampler, hpo::SamplerKind::kGrid);
  EXPECT_EQ(spec->config.budget.max_trials, 3);
}

TEST(HpoTranslate, ErrorsNameTheField) {
  struct Case {
    const char* patch;  // JSON merge patch applied to the notebook body
    const char* field;
  } cases[] = {
      {R"({"algoDef":{"algorithm":"Genetic"}})", "algoDef.algorithm"},
      {R"({"algoDef":{"objectiveMetric":null}})", "algoDef.objectiveMetric"},
      {R"({"algoDef":{"objective":"up"}})", "algoDef.objective"},
      {R"({"algoDef":{"maxParalleJobNum":0}})", "algoDef.maxParalleJobNum"},
      {R"({"algoDef":{"maxJobNum":"many"}})", "algoDef.maxJobNum"},
      {R"({"modelSpec":null})", "modelSpec"},
      {R"({"modelSpec":{"args":""}})", "modelSpec.args"},
      {R"({"hyperParams":[]})", "hyperParams"},
      {R"({"hyperParams":[{"name":"lr","type":"Range","dataType":"double","minDbVal":1,"maxDbVal":0.1}]})",
       "hyperParams.0.minDbVal"},
      {R"({"hyperParams":[{"name":"lr","type":"Range","dataType":"double","maxDbVal":0.1}]})", "hyperParams.0.minDbVal"},
      {R"({"hyperParams":[{"name":"o","type":"Range","dataType":"str"}]})", "hyperParams.0.dataType"},
      {R"({"hyperParams":[{"name":"o","type":"Discrete","dataType":"str","discreateStrVal":[]}]})",
       "hyperParams.0.discreateStrVal"},
      {R"({"hyperParams":[{"name":"o","type":"Choice","dataType":"str"}]})", "hyperParams.0.type"},
      {R"({"hyperParams":[{"name":"bad name","type":"fix","fixedVal":1}]})", "hyperParams.0.name"},
      {R"({"hyperParams":[{"name":"x","type":"Range","dataType":"quux"}]})", "hyperParams.0.dataType"},
      {R"({"hpoName":"../etc"})", "hpoName"},
      {R"({"algoDef":{"algorithm":"ExperimentGridSearch"}})", "experiments"},
  };
  for (const auto& c : cases) {
    json body = NotebookBody();
    body.merge_patch(json::parse(c.patch));
    auto t = ParseHpoTask(body);
    ASSERT_FALSE(t) << c.patch;
    EXPECT_EQ(t.error().code(), StatusCode::kInvalidArgument) << c.patch;
    EXPECT_EQ(t.error().field(), c.field) << c.patch << ": " << t.error().message();
  }
}

TEST(HpoTranslate, BuiltinAlgorithmsListTheFive) {
  json a = BuiltinAlgorithms();
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[4]["name"], "ExperimentGridSearch");
  EXPECT_EQ(a[0]["type"], "BUILD_IN");
}

}  // namespace
}  // namespace stoke::wmla
