#include "common/status.h"

#include <gtest/gtest.h>

namespace stoke {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Err(Status::InvalidArgument("odd", "x"));
  return x / 2;
}

Result<int> Quarter(int x) {
  STOKE_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

Status CheckEven(int x) {
  STOKE_RETURN_IF_ERROR(x % 2 == 0 ? Status::Ok() : Status::InvalidArgument("odd", "x"));
  return Status::Ok();
}

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, CarriesCodeMessageAndField) {
  Status s = Status::InvalidArgument("must be >= 0", "gpus").WithFieldPrefix("resources");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "resources.gpus");
  EXPECT_EQ(s.ToString(), "invalid_argument: must be >= 0 (field resources.gpus)");
}

TEST(StatusTest, MacrosPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).error().field(), "x");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stoke
