#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "store/tests/store_test_util.h"

namespace stoke::store {
namespace {

using MetricStoreTest = testing::StoreTest;
using Points = std::vector<std::pair<int64_t, double>>;

std::vector<MetricPoint> Series(const std::string& name, int64_t first, int64_t n, double (*f)(int64_t)) {
  std::vector<MetricPoint> out;
  for (int64_t s = first; s < first + n; ++s) out.push_back({.step = s, .name = name, .value = f(s), .time = s});
  return out;
}

TEST_F(MetricStoreTest, AppendAndQueryAllSeries) {
  Store& store = OpenStore();
  JobId id = store.CreateJob(MakeJob("u", "m")).value().id;
  ASSERT_TRUE(store.AppendMetrics(id, {{.step = 1, .name = "loss", .value = 0.9, .time = 10},
                                       {.step = 1, .name = "acc", .value = 0.1, .time = 10},
                                       {.step = 2, .name = "loss", .value = 0.7, .time = 20},
                                       {.step = 0, .name = "loss", .value = 1.5, .time = 5}})
                  .ok());
  EXPECT_EQ(store.MetricNames(id).value(), (std::vector<std::string>{"acc", "loss"}));

  auto all = store.QueryMetrics(id, {}, {}, {}, 1000);
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "acc");
  EXPECT_EQ((*all)[0].points, (Points{{1, 0.1}}));
  EXPECT_EQ((*all)[1].name, "loss");
  EXPECT_EQ((*all)[1].count, 3);
  EXPECT_EQ((*all)[1].points, (Points{{0, 1.5}, {1, 0.9}, {2, 0.7}}));

  auto only = store.QueryMetrics(id, {"loss", "nope"}, 1, 5, 1000).value();
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0].points, (Points{{1, 0.9}, {2, 0.7}}));
  EXPECT_EQ(only[0].count, 2);
}

TEST_F(MetricStoreTest, SameStepReplacesTheValue) {
  Store& store = OpenStore();
  JobId id = store.CreateJob(MakeJob("u", "m")).value().id;
  ASSERT_TRUE(store.AppendMetrics(id, {{.step = 3, .name = "loss", .value = 1.0}}).ok());
  ASSERT_TRUE(store.AppendMetrics(id, {{.step = 3, .name = "loss", .value = 2.0}}).ok());
  auto got = store.QueryMetrics(id, {"loss"}, {}, {}, 10).value();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].points, (Points{{3, 2.0}}));
}

TEST_F(MetricStoreTest, BadPointsRejectAllOrNothing) {
  Store& store = OpenStore();
  JobId id = store.CreateJob(MakeJob("u", "m")).value().id;
  Status nan = store.AppendMetrics(id, {{.step = 1, .name = "loss", .value = 1},
                                        {.step = 2, .name = "loss", .value = std::nan("")}});
  EXPECT_EQ(nan.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(nan.field(), "metrics[1].value");
  EXPECT_EQ(store.AppendMetrics(id, {{.step = -1, .name = "loss", .value = 1}}).field(), "metrics[0].step");
  EXPECT_EQ(store.AppendMetrics(id, {{.step = 1, .name = "", .value = 1}}).field(), "metrics[0].name");
  EXPECT_EQ(store.AppendMetrics(id, {{.step = 1, .name = "x", .value = std::numeric_limits<double>::infinity()}})
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(store.MetricNames(id).value().empty());
  EXPECT_EQ(store.AppendMetrics(id + 100, {{.step = 1, .name = "loss", .value = 1}}).code(), StatusCode::kNotFound);
  EXPECT_EQ(store.QueryMetrics(id, {}, {}, {}, 1).error().code(), StatusCode::kInvalidArgument);
}

TEST_F(MetricStoreTest, DownsamplingKeepsSpikesAndRespectsTheCap) {
  Store& store = OpenStore();
  JobId id = store.CreateJob(MakeJob("u", "m")).value().id;
  // 10,000 points of a smooth curve with one spike up and one down.
  std::vector<MetricPoint> pts = Series("loss", 0, 10000, [](int64_t s) { return 1.0 / (1.0 + s); });
  pts[4321].value = 50.0;
  pts[8765].value = -50.0;
  ASSERT_TRUE(store.AppendMetrics(id, pts).ok());

  auto got = store.QueryMetrics(id, {"loss"}, {}, {}, 100).value();
  ASSERT_EQ(got.size(), 1u);
  const MetricSeries& s = got[0];
  EXPECT_EQ(s.count, 10000);
  EXPECT_LE(s.points.size(), 100u);
  EXPECT_GE(s.points.size(), 90u);
  bool up = false, down = false;
  for (size_t i = 0; i < s.points.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(s.points[i - 1].first, s.points[i].first) << "steps must ascend";
    }
    up |= s.points[i] == std::pair<int64_t, double>{4321, 50.0};
    down |= s.points[i] == std::pair<int64_t, double>{8765, -50.0};
  }
  EXPECT_TRUE(up);
  EXPECT_TRUE(down);
  // The curve's extremes survive too: first point is the maximum of bucket 0.
  EXPECT_EQ(s.points.front(), (std::pair<int64_t, double>{0, 1.0}));

  // Each bucket of 200 steps gives its min and max: check one bucket exactly.
  // Bucket 3 covers steps [600, 800): max at 600, min at 799.
  EXPECT_NE(std::find(s.points.begin(), s.points.end(), std::pair<int64_t, double>{600, 1.0 / 601}), s.points.end());
  EXPECT_NE(std::find(s.points.begin(), s.points.end(), std::pair<int64_t, double>{799, 1.0 / 800}), s.points.end());
}

TEST_F(MetricStoreTest, DownsamplingWithinAStepRange) {
  Store& store = OpenStore();
  JobId id = store.CreateJob(MakeJob("u", "m")).value().id;
  ASSERT_TRUE(store.AppendMetrics(id, Series("acc", 0, 5000, [](int64_t s) { return double(s % 7); })).ok());
  auto got = store.QueryMetrics(id, {"acc"}, 1000, 1999, 10).value();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].count, 1000);
  ASSERT_EQ(got[0].points.size(), 10u);
  for (auto [step, value] : got[0].points) {
    EXPECT_GE(step, 1000);
    EXPECT_LE(step, 1999);
    EXPECT_TRUE(value == 0.0 || value == 6.0) << step << " " << value;
  }
  // An empty range gives the series with no points.
  auto empty = store.QueryMetrics(id, {"acc"}, 9000, 9999, 10).value();
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].count, 0);
  EXPECT_TRUE(empty[0].points.empty());
}

TEST_F(MetricStoreTest, SparseStepsAndHugeStepValues) {
  Store& store = OpenStore();
  JobId id = store.CreateJob(MakeJob("u", "m")).value().id;
  const int64_t big = std::numeric_limits<int64_t>::max();
  std::vector<MetricPoint> pts;
  for (int i = 0; i < 50; ++i) pts.push_back({.step = i, .name = "x", .value = double(i)});
  pts.push_back({.step = big, .name = "x", .value = -1});
  ASSERT_TRUE(store.AppendMetrics(id, pts).ok());
  auto got = store.QueryMetrics(id, {"x"}, {}, {}, 4).value();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].count, 51);
  // Two buckets: [0, big/2] holds 0..49 (min 0, max 49), the other holds only `big`.
  EXPECT_EQ(got[0].points, (Points{{0, 0.0}, {49, 49.0}, {big, -1.0}}));
}

}  // namespace
}  // namespace stoke::store
