#include "archive/entry_path.h"

#include <gtest/gtest.h>

namespace stoke::archive {
namespace {

TEST(EntryPathTest, NormalizesHarmlessNames) {
  EXPECT_EQ(NormalizeEntryPath("a/b/c.py").value(), "a/b/c.py");
  EXPECT_EQ(NormalizeEntryPath("./a//b/./c/").value(), "a/b/c");
  EXPECT_EQ(NormalizeEntryPath("./").value(), "");
  EXPECT_EQ(NormalizeEntryPath("..hidden/x..y").value(), "..hidden/x..y");
}

TEST(EntryPathTest, RefusesHostileNames) {
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../../x", "a/..", "a/b\n", "tab\there", "del\x7f"}) {
    auto result = NormalizeEntryPath(bad);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_EQ(result.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(result.error().field(), "code");
  }
  EXPECT_NE(NormalizeEntryPath("a/b\n").error().message().find("a/b\\x0a"), std::string::npos);
}

TEST(EntryPathTest, SymlinkTargets) {
  EXPECT_TRUE(SymlinkTargetStaysInside("link", "file"));
  EXPECT_TRUE(SymlinkTargetStaysInside("d/link", "../file"));
  EXPECT_TRUE(SymlinkTargetStaysInside("d/e/link", "../../x/./y"));
  EXPECT_TRUE(SymlinkTargetStaysInside("link", "."));
  EXPECT_FALSE(SymlinkTargetStaysInside("link", ".."));
  EXPECT_FALSE(SymlinkTargetStaysInside("d/link", "../../x"));
  EXPECT_FALSE(SymlinkTargetStaysInside("d/link", "a/../../../x"));
  EXPECT_FALSE(SymlinkTargetStaysInside("link", "/etc"));
  EXPECT_FALSE(SymlinkTargetStaysInside("link", ""));
}

}  // namespace
}  // namespace stoke::archive
