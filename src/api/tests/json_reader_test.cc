#include "api/json_reader.h"

#include <gtest/gtest.h>

namespace stoke::api {
namespace {

using nlohmann::json;

TEST(JsonObjectReaderTest, RejectsNonObjects) {
  auto r = JsonObjectReader::Make(json::array());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

TEST(JsonObjectReaderTest, TypedGettersNameTheField) {
  json body = {{"a", "x"}, {"n", 5}, {"f", 1.5}, {"b", true}, {"nested", {{"k", -1}}}};
  auto r = JsonObjectReader::Make(body);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(**r->String("a"), "x");
  EXPECT_EQ(**r->Int("n", 0, 10), 5);
  EXPECT_EQ(**r->Number("f", 0, 2), 1.5);
  EXPECT_EQ(**r->Bool("b"), true);
  auto nested = r->Object("nested");
  ASSERT_TRUE(nested.has_value() && nested->has_value());
  auto k = (*nested)->Int("k", 0, 10);
  ASSERT_FALSE(k.has_value());
  EXPECT_EQ(k.error().field(), "nested.k");
  EXPECT_TRUE(r->Finish().ok());
}

TEST(JsonObjectReaderTest, WrongTypesAreErrors) {
  json body = {{"n", "5"}, {"s", 3}, {"arr", {"a", 1}}};
  auto r = JsonObjectReader::Make(body);
  EXPECT_EQ(r->Int("n", 0, 10).error().field(), "n");
  EXPECT_EQ(r->String("s").error().field(), "s");
  EXPECT_EQ(r->StringArray("arr", 10).error().field(), "arr.1");
}

TEST(JsonObjectReaderTest, IntegralFloatsAreIntsButFractionsAreNot) {
  json body = {{"a", 2.0}, {"b", 2.5}};
  auto r = JsonObjectReader::Make(body);
  EXPECT_EQ(**r->Int("a", 0, 10), 2);
  EXPECT_FALSE(r->Int("b", 0, 10).has_value());
}

TEST(JsonObjectReaderTest, UnknownFieldsAreRejected) {
  json body = {{"known", 1}, {"typo", 2}};
  auto r = JsonObjectReader::Make(body);
  ASSERT_TRUE(r->Int("known", 0, 5).has_value());
  Status s = r->Finish();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "typo");
}

TEST(ParseByteSizeTest, AcceptsNumbersAndUnits) {
  struct Case {
    json in;
    int64_t want;
  };
  for (const Case& c : std::vector<Case>{{1024, 1024},
                                         {"512M", 512LL << 20},
                                         {"4G", 4LL << 30},
                                         {"1.5GiB", (3LL << 30) / 2},
                                         {"100kb", 100 << 10},
                                         {"7", 7}}) {
    auto got = ParseByteSize(c.in, "memory");
    ASSERT_TRUE(got.has_value()) << c.in.dump();
    EXPECT_EQ(*got, c.want) << c.in.dump();
  }
}

TEST(ParseByteSizeTest, RejectsJunk) {
  for (const json& bad : {json(-1), json("G"), json("4X"), json(true), json("1e30T")}) {
    auto got = ParseByteSize(bad, "resources.memory");
    ASSERT_FALSE(got.has_value()) << bad.dump();
    EXPECT_EQ(got.error().field(), "resources.memory");
  }
}

TEST(ParseJsonTextTest, ReportsSyntaxErrors) {
  EXPECT_TRUE(ParseJsonText(R"({"a":1})").has_value());
  auto bad = ParseJsonText(R"({"a":)");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("malformed JSON"), std::string::npos);
}

}  // namespace
}  // namespace stoke::api
