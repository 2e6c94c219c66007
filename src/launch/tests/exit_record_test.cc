#include "launch/exit_record.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "launch/tests/test_util.h"

namespace stoke::launch {
namespace {

TEST(ExitRecordTest, FormatParseRoundTrip) {
  for (ExitKind kind : {ExitKind::kExited, ExitKind::kSignaled, ExitKind::kKilledByRequest, ExitKind::kExecFailed}) {
    ExitRecord r{.kind = kind, .exit_code = 137, .signal = 9, .child_pid = 4242, .finished_at = 1700000000123,
                 .reason = "stopped by request (SIGTERM); a=b"};
    auto parsed = ParseExitRecord(FormatExitRecord(r));
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    EXPECT_EQ(*parsed, r);
  }
}

TEST(ExitRecordTest, ReasonIsKeptOnOneLine) {
  ExitRecord r{.reason = "line one\nline two"};
  auto parsed = ParseExitRecord(FormatExitRecord(r));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->reason, "line one line two");
}

TEST(ExitRecordTest, RejectsForeignOrBrokenText) {
  EXPECT_FALSE(ParseExitRecord("hello\n").has_value());
  EXPECT_FALSE(ParseExitRecord("stoke-exit-status v1\nexit_code=1\n").has_value());  // no ended=
  EXPECT_FALSE(ParseExitRecord("stoke-exit-status v1\nended=exploded\n").has_value());
  EXPECT_FALSE(ParseExitRecord("stoke-exit-status v1\nended=exited\nexit_code=x1\n").has_value());
  // Unknown keys from newer writers are skipped.
  EXPECT_TRUE(ParseExitRecord("stoke-exit-status v1\nended=exited\nfuture=1\n").has_value());
}

TEST(ExitRecordTest, WriteIsAtomicAndReadable) {
  testing::TempDir dir;
  std::string path = dir / "status";
  EXPECT_EQ(ReadExitRecord(path).error().code(), StatusCode::kNotFound);
  ExitRecord r{.kind = ExitKind::kExited, .exit_code = 3, .reason = "exited with code 3"};
  ASSERT_TRUE(WriteExitRecord(path, r).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto read = ReadExitRecord(path);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, r);
  EXPECT_FALSE(WriteExitRecord(dir / "missing-dir/status", r).ok());
}

}  // namespace
}  // namespace stoke::launch
