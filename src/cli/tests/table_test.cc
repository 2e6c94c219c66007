#include "cli/table.h"

#include <gtest/gtest.h>

namespace stoke::cli {
namespace {

TEST(TableTest, AlignsColumnsWithoutTrailingSpaces) {
  std::string t = RenderTable({"ID", "NAME", "STATE"}, {{"1", "train-a", "RUNNING"}, {"42", "x", "QUEUED"}});
  EXPECT_EQ(t,
            "ID  NAME     STATE\n"
            "1   train-a  RUNNING\n"
            "42  x        QUEUED\n");
}

TEST(TableTest, PadsShortRowsAndCountsUtf8AsOneColumn) {
  std::string t = RenderTable({"A", "B", "C"}, {{"é", "x"}, {"ab"}});
  EXPECT_EQ(t,
            "A   B  C\n"
            "é   x\n"
            "ab\n");
}

TEST(TableTest, EmptyRowsGiveTheHeaderOnly) { EXPECT_EQ(RenderTable({"ID", "NAME"}, {}), "ID  NAME\n"); }

TEST(TableTest, ParsesRfc3339) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z").value(), 0);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:01.5Z").value(), 1500);
  EXPECT_EQ(ParseRfc3339("2026-11-26T14:02:10.123Z").value(), 1795701730123);
  EXPECT_EQ(ParseRfc3339("2026-11-26T16:02:10.123+02:00").value(), 1795701730123);
  EXPECT_EQ(ParseRfc3339(FormatRfc3339(1795701730123)).value(), 1795701730123);
  for (const char* bad : {"", "2026-11-26", "2026-11-26T14:02:10", "2026-13-26T14:02:10Z", "2026-11-26T14:02:10.Z",
                          "2026-11-26T14:02:10Zjunk", "2026/11/26T14:02:10Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

TEST(TableTest, FormatsDurationsAndAges) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(45'000), "45s");
  EXPECT_EQ(FormatDuration(3 * 60'000 + 59'000), "3m");
  EXPECT_EQ(FormatDuration(2 * 3'600'000), "2h");
  EXPECT_EQ(FormatDuration(2 * 3'600'000 + 5 * 60'000), "2h5m");
  EXPECT_EQ(FormatDuration(3 * 86'400'000LL + 4 * 3'600'000), "3d4h");
  EXPECT_EQ(FormatAge(1000, 1000 + 3 * 60'000), "3m ago");
  EXPECT_EQ(FormatAge(1000, 1500), "just now");
  EXPECT_EQ(FormatAge(10'000, 5'000), "in 5s");
}

}  // namespace
}  // namespace stoke::cli
