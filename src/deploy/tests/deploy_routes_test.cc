#include "deploy/deploy_routes.h"

#include <gtest/gtest.h>

namespace stoke::deploy {
namespace {

using nlohmann::json;

Status SpecError(const char* text, bool uploaded = false) {
  auto r = ParseDeploymentSpec(json::parse(text), uploaded);
  return r ? Status::Ok() : r.error();
}

TEST(DeployRoutesTest, ParsesAFullSpec) {
  auto spec = ParseDeploymentSpec(json::parse(R"({"name":"digits","model":{"job":7,"path":"out/model.pt"},
      "replicas":{"min":1,"max":3},"batching":{"max_batch":64,"max_delay_ms":2.5},
      "resources":{"cpus":2,"memory":"1G"},"input_shape":[64]})"),
                                  false);
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_EQ(spec->name, "digits");
  EXPECT_EQ(spec->model, (ModelSource{7, "out/model.pt"}));
  EXPECT_EQ(spec->replicas, (ReplicaRange{1, 3}));
  EXPECT_EQ(spec->batching, (BatchingOptions{64, 2.5}));
  EXPECT_EQ(spec->resources.cpus, 2);
  EXPECT_EQ(spec->resources.memory_bytes, 1 << 30);
  EXPECT_EQ(spec->input_shape, std::vector<int64_t>{64});
}

TEST(DeployRoutesTest, DefaultsAndShorthands) {
  auto spec = ParseDeploymentSpec(json::parse(R"({"name":"a","replicas":2})"), true);
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_EQ(spec->replicas, (ReplicaRange{2, 2}));
  EXPECT_EQ(spec->batching, BatchingOptions{});
  auto only_max = ParseDeploymentSpec(json::parse(R"({"name":"a","model":{"job":1},"replicas":{"max":4}})"), false);
  ASSERT_TRUE(only_max.has_value());
  EXPECT_EQ(only_max->replicas, (ReplicaRange{1, 4}));
  EXPECT_EQ(only_max->model.path, "model.pt");
}

TEST(DeployRoutesTest, BadSpecsNameTheField) {
  EXPECT_EQ(SpecError(R"({"model":{"job":1}})").field(), "name");
  EXPECT_EQ(SpecError(R"({"name":"a"})").field(), "model");
  EXPECT_EQ(SpecError(R"({"name":"a","model":{"job":1}})", true).field(), "model");
  EXPECT_EQ(SpecError(R"({"name":"a","model":{"path":"x"}})").field(), "model.job");
  EXPECT_EQ(SpecError(R"({"name":"A","model":{"job":1}})").field(), "name");
  EXPECT_EQ(SpecError(R"({"name":"a","model":{"job":1},"replicas":{"min":3,"max":2}})").field(), "replicas.min");
  EXPECT_EQ(SpecError(R"({"name":"a","model":{"job":1},"replicas":"two"})").field(), "replicas");
  EXPECT_EQ(SpecError(R"({"name":"a","model":{"job":1},"batching":{"max_batch":0}})").field(), "batching.max_batch");
  EXPECT_EQ(SpecError(R"({"name":"a","model":{"job":1},"resources":{"gpus":"x"}})").field(), "resources.gpus");
  EXPECT_EQ(SpecError(R"({"name":"a","model":{"job":1},"input_shape":[0]})").field(), "input_shape");
  EXPECT_EQ(SpecError(R"({"name":"a","model":{"job":1},"colour":"red"})").field(), "colour");
}

TEST(DeployRoutesTest, UpdateFieldsAreOptional) {
  auto u = ParseDeploymentUpdate(json::parse(R"({"replicas":{"min":2,"max":5}})"));
  ASSERT_TRUE(u.has_value());
  EXPECT_FALSE(u->model.has_value());
  EXPECT_FALSE(u->batching.has_value());
  EXPECT_EQ(*u->replicas, (ReplicaRange{2, 5}));
  auto bad = ParseDeploymentUpdate(json::parse(R"({"name":"x"})"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().field(), "name");
}

TEST(DeployRoutesTest, ViewJson) {
  DeploymentView v;
  v.deployment.spec.name = "d";
  v.deployment.spec.model = {3, "model.pt"};
  v.deployment.version = 2;
  v.desired = 2;
  v.replicas = {{10, 4000, 2, ReplicaPhase::kReady, 1}, {11, 4001, 1, ReplicaPhase::kDraining, 0}};
  json j = DeploymentToJson(v);
  EXPECT_EQ(j["state"], "ready");
  EXPECT_EQ(j["replicas"]["ready"], 1);
  EXPECT_EQ(j["replicas"]["items"][1]["state"], "draining");
  EXPECT_EQ(j["model"]["job"], 3);
  EXPECT_EQ(j["predict_url"], "/api/v1/deployments/d/predict");
}

}  // namespace
}  // namespace stoke::deploy
