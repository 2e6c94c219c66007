#include "common/byte_size.h"

#include <gtest/gtest.h>

namespace stoke {
namespace {

TEST(ByteSizeTest, PlainBytes) {
  EXPECT_EQ(ParseByteSize("0").value(), 0);
  EXPECT_EQ(ParseByteSize("1048576").value(), 1048576);
  EXPECT_EQ(ParseByteSize("100B").value(), 100);
}

TEST(ByteSizeTest, BinarySuffixes) {
  EXPECT_EQ(ParseByteSize("1K").value(), 1024);
  EXPECT_EQ(ParseByteSize("512M").value(), 512LL << 20);
  EXPECT_EQ(ParseByteSize("4G").value(), 4LL << 30);
  EXPECT_EQ(ParseByteSize("2T").value(), 2LL << 40);
  EXPECT_EQ(ParseByteSize("4g").value(), 4LL << 30);
  EXPECT_EQ(ParseByteSize("4GB").value(), 4LL << 30);
  EXPECT_EQ(ParseByteSize("4GiB").value(), 4LL << 30);
  EXPECT_EQ(ParseByteSize(" 4 G ").value(), 4LL << 30);
}

TEST(ByteSizeTest, Fractions) {
  EXPECT_EQ(ParseByteSize("1.5G").value(), 3LL << 29);
  EXPECT_EQ(ParseByteSize("0.5K").value(), 512);
}

TEST(ByteSizeTest, RejectsJunk) {
  for (const char* bad : {"", "G", "-1", "-4G", "4X", "4GG", "4 GiBs", "1.2.3M", "abc", "4Gx", "."}) {
    auto r = ParseByteSize(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ByteSizeTest, RejectsOverflow) {
  EXPECT_FALSE(ParseByteSize("9223372036854775808").has_value());
  EXPECT_FALSE(ParseByteSize("99999999999T").has_value());
  EXPECT_FALSE(ParseByteSize("8388608T").has_value());  // exactly 2^63
  EXPECT_EQ(ParseByteSize("8388607T").value(), 8388607LL << 40);
}

TEST(ByteSizeTest, Formats) {
  EXPECT_EQ(FormatByteSize(0), "0B");
  EXPECT_EQ(FormatByteSize(1023), "1023B");
  EXPECT_EQ(FormatByteSize(4LL << 30), "4G");
  EXPECT_EQ(FormatByteSize(3LL << 29), "1.5G");
  EXPECT_EQ(FormatByteSize(512LL << 20), "512M");
}

TEST(ByteSizeTest, FormatParsesBack) {
  for (int64_t v : {1024LL, 4LL << 30, 3LL << 29, 7LL << 40}) EXPECT_EQ(ParseByteSize(FormatByteSize(v)).value(), v);
}

}  // namespace
}  // namespace stoke
