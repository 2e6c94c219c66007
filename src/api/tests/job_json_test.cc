#include "api/job_json.h"

#include <gtest/gtest.h>

namespace stoke::api {
namespace {

using nlohmann::json;

TEST(ParseJobSpecTest, Defaults) {
  auto spec = ParseJobSpec(json{{"argv", {"/usr/bin/python3", "train.py"}}});
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_EQ(spec->name, "python3");
  EXPECT_EQ(spec->resources.cpus, 1);
  EXPECT_EQ(spec->resources.gpus, 0);
  EXPECT_EQ(spec->priority, 0);
  EXPECT_EQ(spec->hparams_json, "{}");
}

TEST(ParseJobSpecTest, FullSpec) {
  json body = {{"argv", {"sh", "-c", "echo hi"}},
               {"name", "hello"},
               {"env", {{"FOO", "bar"}}},
               {"resources", {{"gpus", 1}, {"cpus", 2}, {"memory", "1G"}}},
               {"priority", 5},
               {"max_runtime_s", 30},
               {"working_dir", "/tmp"},
               {"hparams", {{"lr", 0.1}}}};
  auto spec = ParseJobSpec(body);
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_EQ(spec->name, "hello");
  EXPECT_EQ(spec->env.at("FOO"), "bar");
  EXPECT_EQ(spec->resources, (Resources{1, 2, 1LL << 30}));
  EXPECT_EQ(spec->priority, 5);
  EXPECT_EQ(spec->max_runtime_s, 30);
  EXPECT_EQ(json::parse(spec->hparams_json)["lr"], 0.1);
}

// Each bad body is rejected with the field it is about.
TEST(ParseJobSpecTest, BadInputNamesTheField) {
  struct Case {
    json body;
    std::string field;
  };
  std::vector<Case> cases = {
      {json::object(), "argv"},
      {{{"argv", json::array()}}, "argv"},
      {{{"argv", "echo hi"}}, "argv"},
      {{{"argv", {"echo", 3}}}, "argv.1"},
      {{{"argv", {""}}}, "argv.0"},
      {{{"argv", {"x"}}, {"resources", {{"gpus", -1}}}}, "resources.gpus"},
      {{{"argv", {"x"}}, {"resources", {{"cpus", 0}}}}, "resources.cpus"},
      {{{"argv", {"x"}}, {"resources", {{"cpus", "2"}}}}, "resources.cpus"},
      {{{"argv", {"x"}}, {"resources", {{"memory", "lots"}}}}, "resources.memory"},
      {{{"argv", {"x"}}, {"resources", {{"tpus", 1}}}}, "resources.tpus"},
      {{{"argv", {"x"}}, {"resources", 3}}, "resources"},
      {{{"argv", {"x"}}, {"priority", 5000}}, "priority"},
      {{{"argv", {"x"}}, {"max_runtime_s", -1}}, "max_runtime_s"},
      {{{"argv", {"x"}}, {"working_dir", "relative/dir"}}, "working_dir"},
      {{{"argv", {"x"}}, {"env", {{"1BAD", "x"}}}}, "env.1BAD"},
      {{{"argv", {"x"}}, {"env", {{"STOKE_TOKEN", "x"}}}}, "env.STOKE_TOKEN"},
      {{{"argv", {"x"}}, {"env", {{"A", 1}}}}, "env.A"},
      {{{"argv", {"x"}}, {"hparams", {1, 2}}}, "hparams"},
      {{{"argv", {"x"}}, {"type", "tpu"}}, "type"},
      {{{"argv", {"x"}}, {"type", "elastic"}, {"train", {{"model", "m.pt"}, {"data", "d.npz"}}}}, "argv"},
      {{{"type", "elastic"}}, "train"},
      {{{"type", "elastic"}, {"train", {{"data", "d.npz"}}}}, "train.model"},
      {{{"type", "elastic"}, {"train", {{"model", "m.pt"}, {"data", "d.npz"}, {"lr", -1}}}}, "train.lr"},
      {{{"type", "elastic"}, {"train", {{"model", "m.pt"}, {"data", "d.npz"}}}, {"workers", {{"min", 3}, {"max", 2}}}},
       "workers.max"},
      {{{"type", "elastic"}, {"train", {{"model", "m.pt"}, {"data", "d.npz"}}}, {"workers", {{"min", 0}}}}, "workers.min"},
      {{{"type", "elastic"}, {"train", {{"model", "m.pt"}, {"data", "d.npz"}}}, {"workers", {{"mni", 1}}}}, "workers.mni"},
      {{{"argv", {"x"}}, {"unknown", true}}, "unknown"},
      {{{"argv", {"x"}}, {"name", std::string(200, 'n')}}, "name"},
  };
  for (const auto& c : cases) {
    auto spec = ParseJobSpec(c.body);
    ASSERT_FALSE(spec.has_value()) << c.body.dump();
    EXPECT_EQ(spec.error().code(), StatusCode::kInvalidArgument) << c.body.dump();
    EXPECT_EQ(spec.error().field(), c.field) << c.body.dump() << " -> " << spec.error().ToString();
  }
}

TEST(JobToJsonTest, HasTheContractFields) {
  Job job;
  job.id = 7;
  job.user = "alice";
  job.spec.argv = {"echo"};
  job.spec.name = "echo";
  job.spec.hparams_json = R"({"lr":0.5})";
  job.state = JobState::kCompleted;
  job.exit_code = 0;
  job.created_at = 1700000000000;
  job.job_dir = "/data/jobs/7";
  json j = JobToJson(job);
  EXPECT_EQ(j["id"], 7);
  EXPECT_EQ(j["state"], "COMPLETED");
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_TRUE(j["started_at"].is_null());
  EXPECT_EQ(j["hparams"]["lr"], 0.5);
  EXPECT_EQ(j["result_dir"], "/data/jobs/7/result");
  EXPECT_EQ(j["created_at"], "2023-11-14T22:13:20.000Z");
}

TEST(JobJsonTest, ElasticJobBuildsWorkerFlagsAndEchoesItsTrainObject) {
  json body = {{"type", "elastic"},
               {"workers", {{"min", 1}, {"max", 3}, {"min_wait_s", 30}}},
               {"resources", {{"cpus", 2}}},
               {"train", {{"model", "nets/model.pt"}, {"data", "train.npz"}, {"global_batch", 64}, {"lr", 0.05}}}};
  auto spec = ParseJobSpec(body);
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_EQ(spec->type, JobType::kElastic);
  EXPECT_EQ(spec->name, "train-model.pt");
  EXPECT_EQ(spec->elastic.min_workers, 1);
  EXPECT_EQ(spec->elastic.max_workers, 3);
  EXPECT_EQ(spec->elastic.min_wait_s, 30);
  EXPECT_EQ(spec->resources.cpus, 2);
  EXPECT_EQ(spec->argv, (std::vector<std::string>{"--data", "train.npz", "--global-batch", "64", "--lr", "0.050000000000000003",
                                                  "--model", "nets/model.pt"}));
  Job job;
  job.spec = *spec;
  json out = JobToJson(job);
  EXPECT_EQ(out["type"], "elastic");
  EXPECT_EQ(out["workers"]["max"], 3);
  EXPECT_EQ(out["train"]["lr"], 0.05);
}

}  // namespace
}  // namespace stoke::api
