#include "wmla/wmla_format.h"

#include <gtest/gtest.h>

namespace stoke::wmla {
namespace {

TEST(WmlaFormat, ExecStatesFollowWmlaNames) {
  EXPECT_EQ(ExecStateName(JobState::kQueued), "PENDING_JOB_SCHEDULER");
  EXPECT_EQ(ExecStateName(JobState::kStarting), "LAUNCHING");
  EXPECT_EQ(ExecStateName(JobState::kRunning), "RUNNING");
  EXPECT_EQ(ExecStateName(JobState::kCompleted), "FINISHED");
  EXPECT_EQ(ExecStateName(JobState::kFailed), "ERROR");
  EXPECT_EQ(ExecStateName(JobState::kLost), "ERROR");
  EXPECT_EQ(ExecStateName(JobState::kKilled), "KILLED");
}

TEST(WmlaFormat, HpoStates) {
  service::Experiment e;
  EXPECT_EQ(HpoStateName(e), "SUBMITTED");
  service::Trial started;
  started.job = 4;
  e.trials.push_back(started);
  EXPECT_EQ(HpoStateName(e), "RUNNING");
  e.state = service::ExperimentState::kCompleted;
  EXPECT_EQ(HpoStateName(e), "FINISHED");
  e.state = service::ExperimentState::kStopped;
  EXPECT_EQ(HpoStateName(e), "STOPPED");
  EXPECT_EQ(TrialExecStateName(service::TrialState::kPruned), "KILLED");
}

TEST(WmlaFormat, ExecIds) {
  EXPECT_EQ(ExecId(42), "wmla-42");
  EXPECT_EQ(ParseExecId("wmla-42"), 42);
  EXPECT_EQ(ParseExecId("42"), 42);
  for (const char* bad : {"", "wmla-", "wmla-x", "wmla-0", "-3", "wmla-4a", "admin-hpo-1"}) {
    EXPECT_FALSE(ParseExecId(bad)) << bad;
  }
}

TEST(WmlaFormat, TimesAndDurations) {
  EXPECT_EQ(WmlaTime(1615173880123), "2021-03-08T03:24:40Z");
  EXPECT_EQ(WmlaTime(0), "");
  EXPECT_EQ(Duration(60'000), "00:01:00");
  EXPECT_EQ(Duration((26 * 3600 + 3 * 60 + 4) * 1000LL + 999), "26:03:04");
}

TEST(WmlaFormat, ErrorsCarryHttpCodeMessageAndField) {
  auto j = ErrorJson(Status::InvalidArgument("bad", "args.--numWorker"));
  EXPECT_EQ(j["code"], 400);
  EXPECT_EQ(j["message"], "bad");
  EXPECT_EQ(j["description"], "invalid_argument");
  EXPECT_EQ(j["field"], "args.--numWorker");
  EXPECT_FALSE(ErrorJson(Status::NotFound("x")).contains("field"));
  httplib::Response res;
  WriteWmlaError(res, Status::Unauthenticated("who?"));
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.get_header_value("WWW-Authenticate"), "Basic realm=\"stoke\"");
  EXPECT_EQ(nlohmann::json::parse(res.body)["code"], 401);
}

}  // namespace
}  // namespace stoke::wmla
