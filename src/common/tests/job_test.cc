#include "common/job.h"

#include <gtest/gtest.h>

namespace stoke {
namespace {

TEST(JobStateTest, NamesRoundTrip) {
  for (JobState s : {JobState::kQueued, JobState::kStarting, JobState::kRunning, JobState::kCompleted,
                     JobState::kFailed, JobState::kKilled, JobState::kLost}) {
    EXPECT_EQ(ParseJobState(JobStateName(s)), s);
  }
  EXPECT_FALSE(ParseJobState("queued").has_value());
}

TEST(JobStateTest, TerminalStates) {
  EXPECT_FALSE(IsTerminal(JobState::kRunning));
  EXPECT_TRUE(IsTerminal(JobState::kLost));
}

TEST(ClockTest, FormatsRfc3339) { EXPECT_EQ(FormatRfc3339(1700000000123), "2023-11-14T22:13:20.123Z"); }

}  // namespace
}  // namespace stoke
