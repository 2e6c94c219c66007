#include "ingest/val_dict_list.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ingest/emetrics_parser.h"

namespace stoke::ingest {

void PrintTo(const IngestedPoint& p, std::ostream* os);

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ValDictListTest, ReadsWmlaHpoResultFile) {
  // The shape WMLA's HPO samples write at the end of training.
  auto points = ParseValDictList(
      R"([{"steps": 1, "loss": 0.2487, "accuracy": 0.4523},
          {"steps": 2, "loss": 0.1875, "accuracy": 0.6012}])");
  ASSERT_TRUE(points.has_value()) << points.error().ToString();
  EXPECT_THAT(*points, ElementsAre(IngestedPoint{1, "accuracy", 0.4523}, IngestedPoint{1, "loss", 0.2487},
                                   IngestedPoint{2, "accuracy", 0.6012}, IngestedPoint{2, "loss", 0.1875}));
}

TEST(ValDictListTest, AcceptsNumericStringsAndSkipsTheRest) {
  // EMetrics.close() copies its string-valued test records; users also add odd fields.
  auto points = ParseValDictList(
      R"([{"steps": "3", "loss": "0.5", "optimizer": "adam", "done": true, "hist": [1, 2], "note": null, "acc": 1}])");
  ASSERT_TRUE(points.has_value());
  EXPECT_THAT(*points, ElementsAre(IngestedPoint{3, "acc", 1}, IngestedPoint{3, "loss", 0.5}));
}

TEST(ValDictListTest, MissingStepsUsesEntryIndex) {
  auto points = ParseValDictList(R"([{"loss": 0.9}, "junk", {"loss": 0.7}, {"step": 10, "loss": 0.5},
                                     {"steps": "soon", "loss": 0.4}])");
  ASSERT_TRUE(points.has_value());
  EXPECT_THAT(*points, ElementsAre(IngestedPoint{0, "loss", 0.9}, IngestedPoint{2, "loss", 0.7},
                                   IngestedPoint{10, "loss", 0.5}, IngestedPoint{4, "loss", 0.4}));
}

TEST(ValDictListTest, SingleObjectAndEmptyList) {
  auto one = ParseValDictList(R"({"steps": 5, "accuracy": 0.8})");
  ASSERT_TRUE(one.has_value());
  EXPECT_THAT(*one, ElementsAre(IngestedPoint{5, "accuracy", 0.8}));
  auto none = ParseValDictList("[]");
  ASSERT_TRUE(none.has_value());
  EXPECT_THAT(*none, IsEmpty());
}

TEST(ValDictListTest, RefusesNonJsonAndWrongShapes) {
  for (const char* bad : {"", "not json", R"([{"steps": 1, "loss": 0.2)", "42", R"("text")", "[1, 2] trailing"}) {
    auto result = ParseValDictList(bad);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_EQ(result.error().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ValDictListTest, NamesMatchEmetricsTestGroup) {
  // An HPO objective named "accuracy" must find the same series whichever file the job wrote.
  EmetricsParser parser;
  auto from_lines = parser.Feed(
      R"({"grouplabel": "test", "etimes": {"iteration": {"type": 2, "value": "1"}}, "values": {"accuracy": {"type": 3, "value": "0.4523"}}})"
      "\n");
  auto from_file = ParseValDictList(R"([{"steps": 1, "accuracy": "0.4523"}])");
  ASSERT_TRUE(from_file.has_value());
  EXPECT_EQ(from_lines, *from_file);
}

}  // namespace
}  // namespace stoke::ingest
