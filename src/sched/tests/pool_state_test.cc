#include "sched/pool_state.h"

#include <gtest/gtest.h>

namespace stoke::sched {
namespace {

using Ints = std::vector<int>;

TEST(PoolStateTest, PrefersFirstContiguousRun) {
  PoolState pool(Pool{.cpu_slots = 8, .gpus = {}, .memory_bytes = 0});
  pool.MarkUsed(Allocation{.cpus = {1, 4}, .gpus = {}}, 0);
  EXPECT_EQ(pool.TakeUnit(Resources{.gpus = 0, .cpus = 3})->cpus, Ints({5, 6, 7}));
  EXPECT_EQ(pool.TakeUnit(Resources{.gpus = 0, .cpus = 2})->cpus, Ints({2, 3}));
  EXPECT_EQ(pool.TakeUnit(Resources{.gpus = 0, .cpus = 1})->cpus, Ints({0}));
  EXPECT_FALSE(pool.TakeUnit(Resources{.gpus = 0, .cpus = 1}).has_value());
}

TEST(PoolStateTest, FallsBackToLowestFreeSlotsWhenFragmented) {
  PoolState pool(Pool{.cpu_slots = 8, .gpus = {}, .memory_bytes = 0});
  pool.MarkUsed(Allocation{.cpus = {1, 3, 5}, .gpus = {}}, 0);
  EXPECT_EQ(pool.TakeUnit(Resources{.gpus = 0, .cpus = 3})->cpus, Ints({0, 2, 4}));
}

TEST(PoolStateTest, GpusLowestDeviceIndexFirst) {
  PoolState pool(Pool{.cpu_slots = 4, .gpus = {7, 2, 5}, .memory_bytes = 0});
  auto unit = pool.TakeUnit(Resources{.gpus = 2, .cpus = 1});
  ASSERT_TRUE(unit.has_value());
  EXPECT_EQ(unit->gpus, Ints({2, 5}));
  EXPECT_EQ(pool.Free(), (Amount{3, 1, 0}));
}

TEST(PoolStateTest, MemoryOnlyCountsWhenAccounted) {
  PoolState unaccounted(Pool{.cpu_slots = 2, .gpus = {}, .memory_bytes = 0});
  EXPECT_TRUE(unaccounted.TakeUnit(Resources{.gpus = 0, .cpus = 1, .memory_bytes = 1 << 30}).has_value());
  PoolState accounted(Pool{.cpu_slots = 2, .gpus = {}, .memory_bytes = 100});
  EXPECT_TRUE(accounted.TakeUnit(Resources{.gpus = 0, .cpus = 1, .memory_bytes = 60}).has_value());
  EXPECT_FALSE(accounted.TakeUnit(Resources{.gpus = 0, .cpus = 1, .memory_bytes = 60}).has_value());
  EXPECT_EQ(accounted.Free(), (Amount{1, 0, 40}));
}

TEST(PoolStateTest, IsFreeRejectsForeignAndHeldIndexes) {
  PoolState pool(Pool{.cpu_slots = 2, .gpus = {0}, .memory_bytes = 0});
  EXPECT_TRUE(pool.IsFree(Allocation{.cpus = {0, 1}, .gpus = {0}}));
  EXPECT_FALSE(pool.IsFree(Allocation{.cpus = {2}, .gpus = {}}));
  EXPECT_FALSE(pool.IsFree(Allocation{.cpus = {}, .gpus = {1}}));
  EXPECT_FALSE(pool.IsFree(Allocation{.cpus = {1, 1}, .gpus = {}}));
  pool.MarkUsed(Allocation{.cpus = {1}, .gpus = {}}, 0);
  EXPECT_FALSE(pool.IsFree(Allocation{.cpus = {1}, .gpus = {}}));
  pool.Release(Allocation{.cpus = {1}, .gpus = {}}, 0);
  EXPECT_TRUE(pool.IsFree(Allocation{.cpus = {1}, .gpus = {}}));
}

}  // namespace
}  // namespace stoke::sched
