#include "deploy/deployment.h"

#include <gtest/gtest.h>

namespace stoke::deploy {
namespace {

Deployment Sample() {
  Deployment d;
  d.spec.name = "digits";
  d.spec.model = {42, "out/model.pt"};
  d.spec.replicas = {1, 3};
  d.spec.batching = {16, 2.5};
  d.spec.resources = {1, 2, 1 << 30};
  d.spec.input_shape = {64};
  d.user = "ana";
  d.version = 3;
  d.model_file = "/data/deployments/digits/v3/model.pt";
  d.replicas = {{7, 40001, 3}, {9, 40002, 2}};
  d.created_at = 1000;
  d.updated_at = 2000;
  return d;
}

TEST(DeploymentTest, EncodeDecodeRoundTrip) {
  Deployment d = Sample();
  auto back = DecodeDeployment(EncodeDeployment(d));
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->spec.name, "digits");
  EXPECT_EQ(back->spec.model, d.spec.model);
  EXPECT_EQ(back->spec.replicas, d.spec.replicas);
  EXPECT_EQ(back->spec.batching, d.spec.batching);
  EXPECT_EQ(back->spec.resources, d.spec.resources);
  EXPECT_EQ(back->spec.input_shape, d.spec.input_shape);
  EXPECT_EQ(back->user, "ana");
  EXPECT_EQ(back->version, 3);
  EXPECT_EQ(back->model_file, d.model_file);
  EXPECT_EQ(back->replicas, d.replicas);
  EXPECT_EQ(back->created_at, 1000);
  EXPECT_EQ(back->updated_at, 2000);
}

TEST(DeploymentTest, DecodeRejectsJunk) {
  EXPECT_FALSE(DecodeDeployment("nope").has_value());
  EXPECT_FALSE(DecodeDeployment(R"({"name":"x"})").has_value());
}

TEST(DeploymentTest, NamesAreDnsLabels) {
  EXPECT_TRUE(ValidateDeploymentName("digits-v2").ok());
  EXPECT_TRUE(ValidateDeploymentName("0abc").ok());
  for (const char* bad : {"", "-x", "Digits", "a_b", "a/b", "a b", ".."}) {
    Status s = ValidateDeploymentName(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.field(), "name");
  }
  EXPECT_FALSE(ValidateDeploymentName(std::string(64, 'a')).ok());
}

TEST(DeploymentTest, SpecRangesNameTheField) {
  auto field_of = [](auto mutate) {
    DeploymentSpec s = Sample().spec;
    mutate(s);
    return ValidateSpec(s).field();
  };
  EXPECT_EQ(field_of([](DeploymentSpec&) {}), "");
  EXPECT_EQ(field_of([](DeploymentSpec& s) { s.replicas = {3, 2}; }), "replicas.min");
  EXPECT_EQ(field_of([](DeploymentSpec& s) { s.replicas = {0, 0}; }), "replicas.max");
  EXPECT_EQ(field_of([](DeploymentSpec& s) { s.replicas = {0, 65}; }), "replicas.max");
  EXPECT_EQ(field_of([](DeploymentSpec& s) { s.batching.max_batch = 0; }), "batching.max_batch");
  EXPECT_EQ(field_of([](DeploymentSpec& s) { s.batching.max_delay_ms = -1; }), "batching.max_delay_ms");
  EXPECT_EQ(field_of([](DeploymentSpec& s) { s.resources.cpus = 0; }), "resources.cpus");
  EXPECT_EQ(field_of([](DeploymentSpec& s) { s.input_shape = {64, 0}; }), "input_shape");
}

}  // namespace
}  // namespace stoke::deploy
