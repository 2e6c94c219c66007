#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "hpo/random_sampler.h"
#include "hpo/tests/script_world.h"
#include "hpo/tpe/parzen_estimator.h"
#include "hpo/tpe/tpe_sampler.h"
#include "hpo/tpe/truncnorm.h"

namespace stoke::hpo {
namespace {

TEST(TruncnormTest, DensityIntegratesToOneAndSamplesStayInside) {
  for (auto [mu, sigma] : {std::pair{0.5, 0.1}, std::pair{0.0, 1.0}, std::pair{1.0, 0.05}}) {
    double integral = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) integral += std::exp(truncnorm::LogPdf((i + 0.5) / n, mu, sigma, 0, 1)) / n;
    EXPECT_NEAR(integral, 1.0, 1e-3) << mu << " " << sigma;
  }
  EXPECT_EQ(truncnorm::LogPdf(1.5, 0.5, 0.1, 0, 1), -INFINITY);
  EXPECT_NEAR(truncnorm::LogMass(-40, 40), 0.0, 1e-12);
  // Far tail: 1 - Phi(8) - (1 - Phi(9)) computed without cancellation.
  const double tail = 0.5 * std::erfc(8 / std::sqrt(2.0)) - 0.5 * std::erfc(9 / std::sqrt(2.0));
  EXPECT_NEAR(truncnorm::LogMass(8, 9), std::log(tail), 1e-9);
  EXPECT_NEAR(truncnorm::LogMass(-9, -8), std::log(tail), 1e-9);
  Rng rng(1);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double x = truncnorm::Sample(rng, 1.0, 0.5, 0, 1);  // mu on the edge
    ASSERT_GE(x, 0);
    ASSERT_LE(x, 1);
    sum += x;
  }
  EXPECT_LT(sum / 10000, 0.75);  // mass piles up near the edge: mean ~0.64
  EXPECT_GT(sum / 10000, 0.55);
}

TEST(ParzenEstimatorTest, NumericDensityIntegratesToOneAndPeaksAtObservations) {
  const ParamSpec x = ParamSpec::Float("x", 0, 10);
  std::vector<double> a{2.0}, b{2.5}, c{8.0};
  const std::vector<const std::vector<double>*> rows{&a, &b, &c};
  const std::vector<double> w{1, 1, 1};
  const ParzenEstimator pe({&x}, {0}, rows, w, ParzenOptions{});
  EXPECT_EQ(pe.num_kernels(), 4u);
  std::vector<double> pts, out;
  const int n = 10000;
  for (int i = 0; i < n; ++i) pts.push_back(10.0 * (i + 0.5) / n);
  pe.LogPdf(pts, out);
  double integral = 0;
  for (double v : out) integral += std::exp(v) * 10.0 / n;
  EXPECT_NEAR(integral, 1.0, 1e-3);
  std::vector<double> probe{2.2, 5.5}, probe_out;
  pe.LogPdf(probe, probe_out);
  EXPECT_GT(probe_out[0], probe_out[1]);
}

TEST(ParzenEstimatorTest, BandwidthWeightedIsTheMixtureReweightedBySigma) {
  // Up to a constant in x, the bandwidth-weighted log density is the mixture whose kernel weights
  // are w_k * sigma_k: the difference between the two must not depend on x.
  const ParamSpec x = ParamSpec::Float("x", 0, 10);
  std::vector<double> a{1.0}, b{1.3}, c{7.0};
  const std::vector<const std::vector<double>*> rows{&a, &b, &c};
  const std::vector<double> w{1, 2, 1};
  ParzenOptions bw;
  bw.bandwidth_weighted = true;
  const ParzenEstimator weighted({&x}, {0}, rows, w, bw);
  // Neighbour sigmas for mus {1, 1.3, 7, prior 5} in [0, 10] (endpoints off), clipped to >= 10/5:
  // sorted 1, 1.3, 5, 7 -> 0.3 (first: gap to next), 3.7, 2.0 (last: gap to previous); prior 10.
  const double mu[] = {1.0, 1.3, 7.0, 5.0};
  const double sigma[] = {2.0, 3.7, 2.0, 10.0};
  const double weight[] = {1, 2, 1, 1};
  auto reweighted = [&](double xv) {
    double sum = 0;
    for (int k = 0; k < 4; ++k) sum += weight[k] * sigma[k] * std::exp(truncnorm::LogPdf(xv, mu[k], sigma[k], 0, 10));
    return std::log(sum);
  };
  std::vector<double> pts{0.5, 3.0, 6.5, 9.5}, out;
  weighted.LogPdf(pts, out);
  const double offset = out[0] - reweighted(pts[0]);
  for (size_t i = 1; i < pts.size(); ++i) EXPECT_NEAR(out[i] - reweighted(pts[i]), offset, 1e-9) << pts[i];
}

TEST(ParzenEstimatorTest, CategoricalIsSmoothedCounts) {
  const ParamSpec c = ParamSpec::Categorical("c", {"a", "b", "c"});
  std::vector<double> o1{1}, o2{1}, o3{2};
  const std::vector<double> w{1, 1, 1};
  const ParzenEstimator pe({&c}, {0}, {&o1, &o2, &o3}, w, ParzenOptions{});
  std::vector<double> pts{0, 1, 2}, out;
  pe.LogPdf(pts, out);
  double total = 0;
  for (double v : out) total += std::exp(v);
  EXPECT_NEAR(total, 1.0, 1e-12);
  EXPECT_GT(out[1], out[2]);
  EXPECT_GT(out[2], out[0]);
  EXPECT_GT(std::exp(out[0]), 0.0);  // never zero: the prior smooths
}

TEST(TpeSamplerTest, GoodCountAndWeights) {
  TpeSampler tpe;
  EXPECT_EQ(tpe.GoodCount(10), 1);
  EXPECT_EQ(tpe.GoodCount(11), 2);
  EXPECT_EQ(tpe.GoodCount(1000), 25);
  EXPECT_EQ(TpeSampler::GroupWeights(25), std::vector<double>(25, 1.0));
  const std::vector<double> w = TpeSampler::GroupWeights(30);
  EXPECT_NEAR(w[0], 1.0 / 30, 1e-12);
  EXPECT_NEAR(w[4], 1.0, 1e-12);
  EXPECT_LT(w[1], w[2]);
  EXPECT_EQ(w[29], 1.0);
}

// Best value after `trials` sequential trials of `sampler` on `f` over `space`.
template <typename F>
double BestAfter(const Sampler& sampler, const SearchSpace& space, F f, int trials, uint64_t seed) {
  Rng rng(seed);
  TrialHistory h;
  double best = INFINITY;
  for (int i = 0; i < trials; ++i) {
    ParamSample p = *sampler.Sample(h, space, rng);
    const double v = f(p);
    best = std::min(best, v);
    TrialRecord& t = h.Add(i, p, *EncodeSample(space, p));
    t.reports.push_back({1, v});
    t.state = TrialState::kCompleted;
  }
  return best;
}

template <typename F>
void ExpectTpeBeatsRandom(const SearchSpace& space, F f, const TpeOptions& options) {
  TpeSampler tpe(options);
  RandomSampler random;
  std::vector<double> tpe_best, random_best;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    tpe_best.push_back(BestAfter(tpe, space, f, 60, seed));
    random_best.push_back(BestAfter(random, space, f, 60, seed + 1000));
  }
  std::sort(tpe_best.begin(), tpe_best.end());
  std::sort(random_best.begin(), random_best.end());
  const double tpe_median = 0.5 * (tpe_best[9] + tpe_best[10]);
  const double random_median = 0.5 * (random_best[9] + random_best[10]);
  EXPECT_LT(tpe_median, random_median) << "tpe " << tpe_median << " random " << random_median;
}

SearchSpace BraninSpace() { return SearchSpace{{ParamSpec::Float("x1", -5, 10), ParamSpec::Float("x2", 0, 15)}}; }
double BraninOf(const ParamSample& p) {
  return testing::Branin(std::get<double>(p.at("x1")), std::get<double>(p.at("x2")));
}

SearchSpace HartmannSpace() {
  SearchSpace s;
  for (int i = 0; i < 6; ++i) s.params.push_back(ParamSpec::Float("x" + std::to_string(i), 0, 1));
  return s;
}
double HartmannOf(const ParamSample& p) {
  double x[6];
  for (int i = 0; i < 6; ++i) x[i] = std::get<double>(p.at("x" + std::to_string(i)));
  return testing::Hartmann6(x);
}

TEST(TpeSamplerTest, BeatsRandomOnBranin) { ExpectTpeBeatsRandom(BraninSpace(), BraninOf, TpeOptions{}); }

TEST(TpeSamplerTest, BeatsRandomOnHartmann6) { ExpectTpeBeatsRandom(HartmannSpace(), HartmannOf, TpeOptions{}); }

TEST(TpeSamplerTest, MultivariateBeatsRandomOnHartmann6) {
  TpeOptions o;
  o.multivariate = true;
  ExpectTpeBeatsRandom(HartmannSpace(), HartmannOf, o);
}

TEST(TpeSamplerTest, ConstantLiarSpreadsParallelSuggestions) {
  const SearchSpace space = BraninSpace();
  TpeOptions o;
  o.n_startup_trials = 5;
  TpeSampler tpe(o);
  Rng rng(2);
  TrialHistory h;
  RandomSampler random;
  for (int i = 0; i < 20; ++i) {
    ParamSample p = *random.Sample(h, space, rng);
    TrialRecord& t = h.Add(i, p, *EncodeSample(space, p));
    t.reports.push_back({1, BraninOf(p)});
    t.state = TrialState::kCompleted;
  }
  // Eight suggestions in a row without results: with the liar they should not all coincide.
  std::set<std::pair<double, double>> distinct;
  for (int i = 0; i < 8; ++i) {
    ParamSample p = *tpe.Sample(h, space, rng);
    distinct.insert({std::get<double>(p.at("x1")), std::get<double>(p.at("x2"))});
    h.Add(20 + i, p, *EncodeSample(space, p));
  }
  EXPECT_EQ(distinct.size(), 8u);
}

TEST(TpeSamplerTest, HandlesIntsStepsCategoricalsAndFixed) {
  const SearchSpace space = testing::MixedSpace();
  TpeOptions o;
  o.n_startup_trials = 3;
  TpeSampler tpe(o);
  Rng rng(9);
  TrialHistory h;
  for (int i = 0; i < 40; ++i) {
    auto p = tpe.Sample(h, space, rng);
    ASSERT_TRUE(p.has_value());
    auto coords = EncodeSample(space, *p);
    ASSERT_TRUE(coords.has_value()) << coords.error().ToString();
    const double y = std::get<double>(p->at("y"));
    EXPECT_DOUBLE_EQ(y, std::round(y * 2) / 2);  // step 0.5
    TrialRecord& t = h.Add(i, *p, *coords);
    t.reports.push_back({1, testing::MixedCurve(*p, 100)});
    t.state = TrialState::kCompleted;
  }
  // It should have learned that adam is best.
  int adam = 0;
  for (int i = 30; i < 40; ++i) adam += std::get<std::string>(h.trials()[i].params.at("opt")) == "adam";
  EXPECT_GE(adam, 5);
}

}  // namespace
}  // namespace stoke::hpo
