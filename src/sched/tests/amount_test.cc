#include "sched/amount.h"

#include <gtest/gtest.h>

namespace stoke::sched {
namespace {

TEST(AmountTest, FitsInComparesEveryDimension) {
  EXPECT_TRUE((Amount{1, 2, 3}).FitsIn(Amount{1, 2, 3}));
  EXPECT_FALSE((Amount{1, 3, 0}).FitsIn(Amount{8, 2, 0}));
  EXPECT_FALSE((Amount{0, 0, 4}).FitsIn(Amount{8, 8, 3}));
}

TEST(AmountTest, ShortfallIsNeverNegative) {
  EXPECT_EQ(Shortfall(Amount{4, 2, 0}, Amount{1, 5, 0}), (Amount{3, 0, 0}));
  EXPECT_TRUE(Shortfall(Amount{1, 1, 1}, Amount{2, 2, 2}).IsZero());
}

TEST(AmountTest, HelpsOnlyInWantedDimensions) {
  EXPECT_TRUE((Amount{0, 1, 0}).Helps(Amount{2, 1, 0}));
  EXPECT_FALSE((Amount{4, 0, 0}).Helps(Amount{0, 1, 0}));
}

TEST(AmountTest, DescribesShortfallAndExcess) {
  EXPECT_EQ(DescribeShortfall(Amount{2, 2, 0}, Amount{1, 1, 0}), "needs 2 GPUs, 1 free; needs 2 CPU slots, 1 free");
  EXPECT_EQ(DescribeShortfall(Amount{1, 1, 0}, Amount{4, 0, 0}), "needs 1 GPU, 0 free");
  EXPECT_EQ(DescribeExcess(Amount{1, 8, 0}, Amount{16, 4, 0}), "needs 8 GPUs, pool has 4");
  constexpr int64_t kGiB = int64_t{1} << 30;
  EXPECT_EQ(DescribeShortfall(Amount{0, 0, 8 * kGiB}, Amount{0, 0, 3 * kGiB / 2}),
            "needs 8.0 GiB memory, 1.5 GiB free");
}

}  // namespace
}  // namespace stoke::sched
