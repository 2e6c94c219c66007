#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "hpo/gp/gp_sampler.h"
#include "hpo/grid_sampler.h"
#include "hpo/random_sampler.h"
#include "hpo/tests/script_world.h"

namespace stoke::hpo {
namespace {

// Adds a completed trial with one report to the history.
void AddCompleted(TrialHistory& h, const SearchSpace& space, const ParamSample& p, double value) {
  TrialRecord& t = h.Add(static_cast<TrialId>(h.size()), p, *EncodeSample(space, p));
  t.reports.push_back({1, value});
  t.state = TrialState::kCompleted;
}

TEST(RandomSamplerTest, ValuesAreLegalAndCoverTheSpace) {
  SearchSpace space{{ParamSpec::Float("lr", 1e-4, 1, Scale::kLog), ParamSpec::Int("k", 1, 9, Scale::kLinear, 2),
                     ParamSpec::Categorical("opt", {"a", "b", "c"}), ParamSpec::Fixed("f", 1.5)}};
  RandomSampler sampler;
  Rng rng(5);
  TrialHistory h;
  std::set<int64_t> ks;
  std::set<std::string> opts;
  int below_1e2 = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    ParamSample p = *sampler.Sample(h, space, rng);
    const double lr = std::get<double>(p.at("lr"));
    ASSERT_GE(lr, 1e-4);
    ASSERT_LE(lr, 1.0);
    below_1e2 += lr < 1e-2;
    const int64_t k = std::get<int64_t>(p.at("k"));
    ASSERT_EQ((k - 1) % 2, 0);
    ks.insert(k);
    opts.insert(std::get<std::string>(p.at("opt")));
    EXPECT_EQ(std::get<double>(p.at("f")), 1.5);
  }
  EXPECT_EQ(ks, (std::set<int64_t>{1, 3, 5, 7, 9}));
  EXPECT_EQ(opts.size(), 3u);
  EXPECT_NEAR(static_cast<double>(below_1e2) / n, 0.5, 0.04);  // log-uniform: half the decades
}

TEST(GridSamplerTest, EnumeratesEveryPointOnceLastParameterFastest) {
  ParamSpec x = ParamSpec::Float("x", 0, 1);
  x.grid_points = 2;
  SearchSpace space{{x, ParamSpec::Categorical("c", {"a", "b", "c"}), ParamSpec::Fixed("f", int64_t{3})}};
  GridSampler sampler;
  EXPECT_EQ(**sampler.Capacity(space), 6);
  Rng rng(0);
  TrialHistory h;
  std::set<std::pair<double, std::string>> seen;
  for (int i = 0; i < 6; ++i) {
    auto p = sampler.Sample(h, space, rng);
    ASSERT_TRUE(p.has_value());
    if (i == 1) {
      EXPECT_EQ(std::get<double>(p->at("x")), 0.0);
      EXPECT_EQ(std::get<std::string>(p->at("c")), "b");
    }
    seen.insert({std::get<double>(p->at("x")), std::get<std::string>(p->at("c"))});
    AddCompleted(h, space, *p, 0);
  }
  EXPECT_EQ(seen.size(), 6u);
  auto done = sampler.Sample(h, space, rng);
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code(), StatusCode::kResourceExhausted);
}

TEST(GridSamplerTest, ContinuousFloatWithoutGridPointsIsAnError) {
  SearchSpace space{{ParamSpec::Float("x", 0, 1)}};
  auto cap = GridSampler().Capacity(space);
  ASSERT_FALSE(cap.has_value());
  EXPECT_EQ(cap.error().field(), "x.grid_points");
}

double GpBestOnBranin(uint64_t seed, bool use_gp) {
  SearchSpace space{{ParamSpec::Float("x1", -5, 10), ParamSpec::Float("x2", 0, 15)}};
  GpOptions o;
  o.n_startup_trials = 8;
  o.n_candidates = 256;
  GpSampler gp(o);
  RandomSampler random;
  Rng rng(seed);
  TrialHistory h;
  double best = INFINITY;
  for (int i = 0; i < 30; ++i) {
    ParamSample p = use_gp ? *gp.Sample(h, space, rng) : *random.Sample(h, space, rng);
    const double v = testing::Branin(std::get<double>(p.at("x1")), std::get<double>(p.at("x2")));
    best = std::min(best, v);
    AddCompleted(h, space, p, v);
  }
  return best;
}

TEST(GpSamplerTest, BeatsRandomOnBranin) {
  std::vector<double> gp, random;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    gp.push_back(GpBestOnBranin(seed, true));
    random.push_back(GpBestOnBranin(seed, false));
  }
  std::sort(gp.begin(), gp.end());
  std::sort(random.begin(), random.end());
  EXPECT_LT(gp[2], random[2]);
  EXPECT_LT(gp[2], 1.0);  // the optimum is 0.398
}

TEST(GpSamplerTest, ParallelSuggestionsDifferThanksToConstantLiar) {
  SearchSpace space{{ParamSpec::Float("x", 0, 1)}};
  GpOptions o;
  o.n_startup_trials = 3;
  GpSampler gp(o);
  TrialHistory h;
  for (double x : {0.1, 0.5, 0.9}) AddCompleted(h, space, {{"x", x}}, (x - 0.3) * (x - 0.3));
  Rng rng(1);
  ParamSample first = *gp.Sample(h, space, rng);
  h.Add(3, first, *EncodeSample(space, first));  // running
  ParamSample second = *gp.Sample(h, space, rng);
  EXPECT_GT(std::fabs(std::get<double>(first.at("x")) - std::get<double>(second.at("x"))), 1e-3);
}

}  // namespace
}  // namespace stoke::hpo
