#include "serving/predict_codec.h"

#include <gtest/gtest.h>

namespace stoke::serving {
namespace {

using nlohmann::json;

Status ParseError(std::string_view body, int64_t max_rows = 32) {
  auto r = ParsePredictRequest(body, max_rows);
  return r ? Status::Ok() : r.error();
}

TEST(PredictCodecTest, ParsesInstancesOfVectors) {
  auto r = ParsePredictRequest(R"({"instances":[[1,2,3],[4,5,6.5]]})", 32);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_FALSE(r->wml);
  EXPECT_EQ(r->input.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r->input.values, (std::vector<float>{1, 2, 3, 4, 5, 6.5}));
}

TEST(PredictCodecTest, ParsesNestedRowsAndScalars) {
  auto r = ParsePredictRequest(R"({"instances":[[[1,2],[3,4]]]})", 32);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->input.shape, (std::vector<int64_t>{1, 2, 2}));
  auto s = ParsePredictRequest(R"({"instances":[1, 2.5]})", 32);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->input.shape, (std::vector<int64_t>{2}));
}

TEST(PredictCodecTest, ParsesWmlInputDataGroups) {
  auto r = ParsePredictRequest(R"({"input_data":[{"fields":["a","b"],"values":[[1,2]]},{"values":[[3,4],[5,6]]}]})", 32);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->wml);
  EXPECT_EQ(r->group_rows, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r->input.shape, (std::vector<int64_t>{3, 2}));
  Tensor out{{3, 1}, {10, 20, 30}};
  json doc = json::parse(FormatPredictions(*r, out));
  EXPECT_EQ(doc, json::parse(R"({"predictions":[{"fields":["prediction"],"values":[[10.0]]},
                                                {"fields":["prediction"],"values":[[20.0],[30.0]]}]})"));
}

TEST(PredictCodecTest, FormatsPredictionsPerRow) {
  PredictRequest req;
  Tensor out{{2, 2}, {1, 2, 3, 4}};
  EXPECT_EQ(json::parse(FormatPredictions(req, out)), json::parse(R"({"predictions":[[1.0,2.0],[3.0,4.0]]})"));
  Tensor flat{{2}, {7, 8}};
  EXPECT_EQ(json::parse(FormatPredictions(req, flat)), json::parse(R"({"predictions":[7.0,8.0]})"));
}

TEST(PredictCodecTest, ErrorsNameTheField) {
  struct Case {
    const char* body;
    const char* field;
    const char* words;
  };
  for (const Case& c : std::vector<Case>{
           {"not json", "body", "not valid JSON"},
           {"[1,2]", "body", "JSON object"},
           {R"({})", "instances", "exactly one"},
           {R"({"instances":[]})", "instances", "empty"},
           {R"({"instances":{"a":1}})", "instances", "array"},
           {R"({"instances":[[1,2],[3]]})", "instances[1]", "shape [1]"},
           {R"({"instances":[[1,"x"]]})", "instances[0][1]", "must be a number"},
           {R"({"instances":[[1,null]]})", "instances[0][1]", "must be a number"},
           {R"({"instances":[[[1,2],[3]]]})", "instances[0][1]", "ragged"},
           {R"({"instances":[[]]})", "instances[0]", "empty array"},
           {R"({"instances":[[1]],"extra":1})", "extra", "unknown field"},
           {R"({"input_data":[{"vals":[[1]]}]})", "input_data[0].values", "values"},
           {R"({"input_data":[]})", "input_data", "non-empty"},
       }) {
    Status s = ParseError(c.body);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(s.field(), c.field) << c.body << " -> " << s.ToString();
    EXPECT_NE(s.message().find(c.words), std::string::npos) << c.body << " -> " << s.message();
  }
}

TEST(PredictCodecTest, RefusesMoreRowsThanAllowed) {
  Status s = ParseError(R"({"instances":[[1],[2],[3]]})", 2);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("at most 2"), std::string::npos) << s.message();
}

TEST(PredictCodecTest, ErrorJsonAndStatusMapping) {
  Status s = Status::InvalidArgument("bad", "instances[0]");
  EXPECT_EQ(HttpStatusOf(s), 400);
  EXPECT_EQ(json::parse(ErrorJson(s)),
            json::parse(R"({"error":{"code":"invalid_argument","message":"bad","field":"instances[0]"}})"));
  EXPECT_EQ(HttpStatusOf(Status::ResourceExhausted("full")), 429);
  EXPECT_EQ(HttpStatusOf(Status::Unavailable("x")), 503);
  EXPECT_EQ(HttpStatusOf(Status::Internal("x")), 500);
}

}  // namespace
}  // namespace stoke::serving
