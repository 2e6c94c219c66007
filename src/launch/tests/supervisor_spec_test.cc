#include "launch/supervisor_spec.h"

#include <gtest/gtest.h>

namespace stoke::launch {
namespace {

TEST(SupervisorSpecTest, RoundTripKeepsEveryField) {
  SupervisorSpec spec;
  spec.launch = LaunchSpec{.job_id = 42,
                           .argv = {"python", "train.py", "--lr=0.1", ""},
                           .env = {{"PATH", "/usr/bin"}, {"EQ", "a=b=c"}, {"EMPTY", ""}},
                           .working_dir = "/data/jobs/42/work",
                           .log_path = "/data/jobs/42/logs/stdout.log",
                           .status_path = "/data/jobs/42/exit-status",
                           .cpu_cores = {0, 3},
                           .memory_bytes = int64_t{3} << 30,
                           .grace_seconds = 7,
                           .rlimit_fallback = false};
  spec.cgroup_root = "/sys/fs/cgroup/stoke";
  auto decoded = DecodeSupervisorSpec(EncodeSupervisorSpec(spec));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  const LaunchSpec& l = decoded->launch;
  EXPECT_EQ(l.job_id, 42);
  EXPECT_EQ(l.argv, spec.launch.argv);
  EXPECT_EQ(l.env, spec.launch.env);
  EXPECT_EQ(l.working_dir, spec.launch.working_dir);
  EXPECT_EQ(l.log_path, spec.launch.log_path);
  EXPECT_EQ(l.status_path, spec.launch.status_path);
  EXPECT_EQ(l.cpu_cores, spec.launch.cpu_cores);
  EXPECT_EQ(l.memory_bytes, spec.launch.memory_bytes);
  EXPECT_EQ(l.grace_seconds, 7);
  EXPECT_FALSE(l.rlimit_fallback);
  EXPECT_EQ(decoded->cgroup_root, spec.cgroup_root);
}

TEST(SupervisorSpecTest, RejectsTruncatedOrIncompleteSpecs) {
  SupervisorSpec spec;
  spec.launch.argv = {"true"};
  spec.launch.log_path = "/l";
  spec.launch.status_path = "/s";
  std::string bytes = EncodeSupervisorSpec(spec);
  EXPECT_TRUE(DecodeSupervisorSpec(bytes).has_value());
  EXPECT_FALSE(DecodeSupervisorSpec(bytes.substr(0, bytes.size() - 1)).has_value());
  EXPECT_FALSE(DecodeSupervisorSpec(std::string("bogus\0x\0", 8)).has_value());
  spec.launch.argv.clear();
  EXPECT_FALSE(DecodeSupervisorSpec(EncodeSupervisorSpec(spec)).has_value());
}

}  // namespace
}  // namespace stoke::launch
