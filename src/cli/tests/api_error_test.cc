#include "cli/api_error.h"

#include <gtest/gtest.h>

namespace stoke::cli {
namespace {

TEST(ApiErrorTest, ParsesEveryCodeName) {
  for (StatusCode code : {StatusCode::kInvalidArgument, StatusCode::kUnauthenticated, StatusCode::kPermissionDenied,
                          StatusCode::kNotFound, StatusCode::kAlreadyExists, StatusCode::kFailedPrecondition,
                          StatusCode::kAborted, StatusCode::kUnavailable, StatusCode::kDeadlineExceeded,
                          StatusCode::kResourceExhausted, StatusCode::kCancelled, StatusCode::kInternal}) {
    EXPECT_EQ(ParseStatusCodeName(StatusCodeName(code)), code) << StatusCodeName(code);
  }
  EXPECT_FALSE(ParseStatusCodeName("no_such_code").has_value());
}

TEST(ApiErrorTest, DecodesContractBody) {
  Status s = DecodeErrorBody(
      400, R"({"error": {"code": "invalid_argument", "message": "resources.gpus must be >= 0", "field": "resources.gpus"}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "resources.gpus must be >= 0");
  EXPECT_EQ(s.field(), "resources.gpus");
}

TEST(ApiErrorTest, CodeNameWinsOverHttpStatus) {
  // 409 carries three codes; the body tells which.
  Status s = DecodeErrorBody(409, R"({"error": {"code": "failed_precondition", "message": "job 4 is running", "field": ""}})");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.field(), "");
  EXPECT_EQ(DecodeErrorBody(409, R"({"error": {"code": "aborted", "message": "x"}})").code(), StatusCode::kAborted);
}

TEST(ApiErrorTest, UnknownCodeFallsBackToHttpStatus) {
  Status s = DecodeErrorBody(404, R"({"error": {"code": "gone_fishing", "message": "no job 7"}})");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no job 7");
  // "ok" in an error body never makes a failure look like success.
  EXPECT_EQ(DecodeErrorBody(500, R"({"error": {"code": "ok", "message": "?"}})").code(), StatusCode::kInternal);
}

TEST(ApiErrorTest, NonJsonBodyKeepsAnExcerpt) {
  Status s = DecodeErrorBody(502, "<html>Bad Gateway</html>\n");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "HTTP 502: <html>Bad Gateway</html>");
  EXPECT_EQ(DecodeErrorBody(401, "").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(DecodeErrorBody(401, "").message(), "HTTP 401");
  EXPECT_EQ(DecodeErrorBody(413, "{}").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(DecodeErrorBody(418, "[1,2]").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeErrorBody(500, R"({"error": "flat string"})").code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace stoke::cli
