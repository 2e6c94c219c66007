#include "sched/cover_search.h"

#include <gtest/gtest.h>

namespace stoke::sched {
namespace {

using Indexes = std::vector<size_t>;

TEST(CoverSearchTest, PrefersFewestOverEarliest) {
  // Offers 0 and 1 are preferred, but offer 2 alone covers.
  std::vector<Amount> offers = {{0, 1, 0}, {0, 1, 0}, {0, 2, 0}};
  EXPECT_EQ(FewestCovering(offers, Amount{0, 2, 0}), Indexes({2}));
}

TEST(CoverSearchTest, AmongEqualSizesTakesEarliest) {
  std::vector<Amount> offers = {{0, 1, 0}, {0, 1, 0}, {0, 1, 0}};
  EXPECT_EQ(FewestCovering(offers, Amount{0, 2, 0}), Indexes({0, 1}));
}

TEST(CoverSearchTest, CoversEveryWantedDimension) {
  std::vector<Amount> offers = {{4, 0, 0}, {0, 2, 0}, {1, 1, 0}};
  EXPECT_EQ(FewestCovering(offers, Amount{2, 1, 0}), Indexes({0, 1}));
  EXPECT_EQ(FewestCovering(offers, Amount{1, 1, 0}), Indexes({2}));
}

TEST(CoverSearchTest, NothingWantedNeedsNothing) {
  EXPECT_EQ(FewestCovering({{1, 1, 1}}, Amount{}), Indexes{});
}

TEST(CoverSearchTest, ImpossibleGivesNullopt) {
  EXPECT_FALSE(FewestCovering({{0, 1, 0}, {0, 1, 0}}, Amount{0, 3, 0}).has_value());
}

TEST(CoverSearchTest, FallbackIsMinimalWhenSearchIsCut) {
  // 40 small offers, then one that covers alone; with one check allowed the greedy fallback runs.
  std::vector<Amount> offers(40, Amount{0, 1, 0});
  offers.push_back(Amount{0, 5, 0});
  auto picked = FewestCovering(offers, Amount{0, 5, 0}, /*max_checks=*/1);
  ASSERT_TRUE(picked.has_value());
  Amount sum;
  for (size_t i : *picked) sum += offers[i];
  EXPECT_TRUE(Shortfall(Amount{0, 5, 0}, sum).IsZero());
  // Minimal: dropping any member uncovers.
  for (size_t drop = 0; drop < picked->size(); ++drop) {
    Amount partial;
    for (size_t k = 0; k < picked->size(); ++k) {
      if (k != drop) partial += offers[(*picked)[k]];
    }
    EXPECT_FALSE(Shortfall(Amount{0, 5, 0}, partial).IsZero());
  }
  // The exhaustive search finds the single offer.
  EXPECT_EQ(FewestCovering(offers, Amount{0, 5, 0}), Indexes({40}));
}

}  // namespace
}  // namespace stoke::sched
