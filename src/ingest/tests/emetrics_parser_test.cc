#include "ingest/emetrics_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stoke::ingest {

void PrintTo(const IngestedPoint& p, std::ostream* os) { *os << "{" << p.step << ", " << p.name << ", " << p.value << "}"; }

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Lines shaped exactly as emetrics.py writes them (values as strings, type codes 2/3).
const std::string kTestLine =
    R"({"meta": {"training_id": "training-Kx9_2bGg", "time": 1606745000123, "rindex": 1}, "grouplabel": "test", )"
    R"("etimes": {"iteration": {"type": 2, "value": "3"}, "time_stamp": {"value": "2020-11-30T14:03:20.123456Z"}}, )"
    R"("values": {"loss": {"type": 3, "value": "0.31"}, "accuracy": {"type": 3, "value": "0.9"}}})";
const std::string kTrainLine =
    R"({"meta": {"training_id": "training-Kx9_2bGg", "time": 1606745000456, "rindex": 1, "subid": "7"}, )"
    R"("grouplabel": "train", "etimes": {"iteration": {"type": 2, "value": "4"}, "time_stamp": {"value": "2020-11-30T14:03:21Z"}}, )"
    R"("values": {"loss": {"type": 3, "value": "0.25"}, "batches": {"type": 2, "value": "120"}}})";

std::vector<IngestedPoint> FeedAll(EmetricsParser& parser, const std::vector<std::string>& chunks) {
  std::vector<IngestedPoint> all;
  for (const std::string& chunk : chunks) {
    for (IngestedPoint& p : parser.Feed(chunk)) all.push_back(std::move(p));
  }
  return all;
}

TEST(EmetricsParserTest, TestGroupKeepsPlainNames) {
  EmetricsParser parser;
  EXPECT_THAT(parser.Feed(kTestLine + "\n"),
              ElementsAre(IngestedPoint{3, "accuracy", 0.9}, IngestedPoint{3, "loss", 0.31}));
  EXPECT_EQ(parser.parsed_lines(), 1);
  EXPECT_EQ(parser.malformed_lines(), 0);
}

TEST(EmetricsParserTest, TrainGroupIsPrefixed) {
  EmetricsParser parser;
  EXPECT_THAT(parser.Feed(kTrainLine + "\n"),
              ElementsAre(IngestedPoint{4, "train_batches", 120}, IngestedPoint{4, "train_loss", 0.25}));
  EXPECT_EQ(EmetricsMetricName("test", "accuracy"), "accuracy");
  EXPECT_EQ(EmetricsMetricName("", "accuracy"), "accuracy");
  EXPECT_EQ(EmetricsMetricName("validation", "f1"), "validation_f1");
}

TEST(EmetricsParserTest, KeepsPartialLineAcrossFeedsAtEverySplit) {
  const std::string text = kTestLine + "\n" + kTrainLine + "\r\n\n" + kTestLine + "\n";
  EmetricsParser whole;
  const std::vector<IngestedPoint> expected = whole.Feed(text);
  ASSERT_EQ(expected.size(), 6u);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    EmetricsParser parser;
    std::vector<IngestedPoint> first = parser.Feed(text.substr(0, cut));
    std::vector<IngestedPoint> got = FeedAll(parser, {text.substr(cut)});
    first.insert(first.end(), got.begin(), got.end());
    ASSERT_EQ(first, expected) << "cut at " << cut;
    ASSERT_EQ(parser.malformed_lines(), 0) << "cut at " << cut;
  }
  // Byte by byte: nothing comes out until a newline completes the line.
  EmetricsParser parser;
  std::vector<std::string> bytes;
  for (char c : kTestLine) bytes.emplace_back(1, c);
  EXPECT_THAT(FeedAll(parser, bytes), IsEmpty());
  EXPECT_EQ(parser.Feed("\n").size(), 2u);
}

TEST(EmetricsParserTest, SkipsAndCountsMalformedLines) {
  EmetricsParser parser;
  const std::string text =
      "Traceback (most recent call last):\n"                                          // not JSON
      "[1, 2, 3]\n"                                                                     // not an object
      R"({"grouplabel": "test", "values": {"loss": {"value": "1"}}})" "\n"               // no step
      R"({"etimes": {"iteration": {"type": 2, "value": "abc"}}, "values": {}})" "\n"    // step not a number
      R"({"etimes": {"iteration": {"value": "2.5"}}, "values": {"a": 1}})" "\n"         // step not whole
      R"({"etimes": {"iteration": {"value": "5"}}, "values": {"loss": NaN}})" "\n"      // Python's NaN token
      R"({"etimes": {"iteration": {"value": "5"}}, "values": {"lo)" "\n"                 // cut short
      "\n   \n" + kTestLine + "\n";
  EXPECT_THAT(parser.Feed(text), ElementsAre(IngestedPoint{3, "accuracy", 0.9}, IngestedPoint{3, "loss", 0.31}));
  EXPECT_EQ(parser.malformed_lines(), 7);
  EXPECT_EQ(parser.parsed_lines(), 1);
}

TEST(EmetricsParserTest, ReadsNumbersInEveryShapeAndSkipsWords) {
  EmetricsParser parser;
  const std::string line =
      R"({"grouplabel": "test", "etimes": {"iteration": 7.0}, "values": {)"
      R"("int_str": {"type": 2, "value": "10"}, "float_num": {"type": 3, "value": 0.5}, )"
      R"("untyped": {"value": "1e-3"}, "bare": 2, "word": {"value": "relu"}, "nan": {"type": 3, "value": "nan"}, )"
      R"("inf": {"value": "inf"}, "flag": {"value": true}, "empty": {"value": ""}, "nested": {"value": {"x": 1}}}})";
  EXPECT_THAT(parser.Feed(line + "\n"),
              ElementsAre(IngestedPoint{7, "bare", 2}, IngestedPoint{7, "float_num", 0.5},
                          IngestedPoint{7, "int_str", 10}, IngestedPoint{7, "untyped", 0.001}));
  EXPECT_EQ(parser.skipped_values(), 6);
  EXPECT_EQ(parser.malformed_lines(), 0);
}

TEST(EmetricsParserTest, FlushParsesLastLineWithoutNewline) {
  EmetricsParser parser;
  EXPECT_THAT(parser.Feed(kTestLine), IsEmpty());
  EXPECT_EQ(parser.Flush().size(), 2u);
  EXPECT_THAT(parser.Flush(), IsEmpty());
  parser.Feed(R"({"etimes": {"iter)");
  EXPECT_THAT(parser.Flush(), IsEmpty());
  EXPECT_EQ(parser.malformed_lines(), 1);
}

TEST(EmetricsParserTest, DropsOverLongLineAndRecovers) {
  EmetricsParser parser;
  const std::string chunk(256 << 10, 'x');
  for (int i = 0; i < 6; ++i) EXPECT_THAT(parser.Feed(chunk), IsEmpty());  // 1.5 MiB, no newline
  EXPECT_EQ(parser.malformed_lines(), 1);
  EXPECT_EQ(parser.Feed("still the same line\n" + kTestLine + "\n").size(), 2u);
  EXPECT_EQ(parser.malformed_lines(), 1);
}

TEST(EmetricsParserTest, FlatLinesFromTheTrainingWorker) {
  EmetricsParser parser(EmetricsParser::LineFormat::kFlat);
  std::string text =
      R"({"step": 3, "epoch": 0, "loss": 0.5, "world": 2, "note": "x"})"
      "\n"
      R"({"event": "regroup", "generation": 2, "world": 3, "step": 3})"
      "\n"
      R"({"step": 4, "loss": 0.25)";  // partial: waits for its newline
  EXPECT_THAT(parser.Feed(text), ElementsAre(IngestedPoint{3, "epoch", 0}, IngestedPoint{3, "loss", 0.5},
                                             IngestedPoint{3, "world", 2}));
  EXPECT_THAT(parser.Feed("}\n[1]\n"), ElementsAre(IngestedPoint{4, "loss", 0.25}));
  EXPECT_EQ(parser.parsed_lines(), 2);
  EXPECT_EQ(parser.skipped_values(), 1);  // "note"
  EXPECT_EQ(parser.malformed_lines(), 1);  // [1]
}

}  // namespace
}  // namespace stoke::ingest
