#include "hpo/tpe/tpe_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace stoke::hpo {
namespace {

constexpr size_t kFlatWeights = 25;

// Where a trial ranks: lower tier first, then lower loss. Completed trials are tier 0, pruned
// ones rank by the furthest resource they reached, running ones (constant liar) come last.
struct Rank {
  double tier = 0;
  double loss = 0;
  size_t index = 0;  // position in the history (creation order)
};

}  // namespace

int TpeSampler::GoodCount(int n) const {
  return std::min(static_cast<int>(std::ceil(options_.gamma * n)), options_.gamma_max);
}

std::vector<double> TpeSampler::GroupWeights(size_t n) {
  std::vector<double> w(n, 1.0);
  if (n <= kFlatWeights) return w;
  const size_t ramp = n - kFlatWeights;  // linspace(1/n, 1, ramp) on the oldest trials
  for (size_t i = 0; i < ramp; ++i) {
    const double first = 1.0 / static_cast<double>(n);
    w[i] = ramp == 1 ? first : first + (1.0 - first) * static_cast<double>(i) / static_cast<double>(ramp - 1);
  }
  return w;
}

Result<ParamSample> TpeSampler::Sample(const TrialHistory& history, const SearchSpace& space, Rng& rng) const {
  const auto& trials = history.trials();
  std::vector<Rank> ranks;
  ranks.reserve(trials.size());
  int finished = 0;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < trials.size(); ++i) {
    const TrialRecord& t = trials[i];
    const Report* last = t.last_report();
    switch (t.state) {
      case TrialState::kCompleted:
        if (last == nullptr) continue;  // completed without a value: nothing to learn
        ranks.push_back({-kInf, history.Loss(last->value), i});
        ++finished;
        break;
      case TrialState::kPruned:
        ++finished;
        if (last == nullptr) {
          ranks.push_back({kInf, 0, i});
        } else {
          int64_t furthest = 0;
          for (const Report& r : t.reports) furthest = std::max(furthest, r.resource);
          ranks.push_back({-static_cast<double>(furthest), history.Loss(last->value), i});
        }
        break;
      case TrialState::kRunning:
        if (options_.constant_liar) ranks.push_back({kInf, 0, i});
        break;
      case TrialState::kFailed:
        break;
    }
  }
  if (finished < options_.n_startup_trials) return random_.Sample(history, space, rng);

  std::stable_sort(ranks.begin(), ranks.end(), [](const Rank& a, const Rank& b) {
    if (a.tier != b.tier) return a.tier < b.tier;
    return a.loss < b.loss;
  });
  const size_t n_good = static_cast<size_t>(GoodCount(static_cast<int>(ranks.size())));
  std::vector<size_t> good, bad;
  for (size_t i = 0; i < ranks.size(); ++i) (i < n_good ? good : bad).push_back(ranks[i].index);
  std::sort(good.begin(), good.end());
  std::sort(bad.begin(), bad.end());
  auto rows_of = [&](const std::vector<size_t>& idx) {
    std::vector<const std::vector<double>*> rows;
    rows.reserve(idx.size());
    for (size_t i : idx) rows.push_back(&trials[i].coords);
    return rows;
  };
  const auto good_rows = rows_of(good);
  const auto bad_rows = rows_of(bad);
  const std::vector<double> good_w = GroupWeights(good.size());
  const std::vector<double> bad_w = GroupWeights(bad.size());

  ParzenOptions popt;
  popt.prior_weight = options_.prior_weight;
  popt.consider_magic_clip = options_.consider_magic_clip;
  popt.consider_endpoints = options_.consider_endpoints;
  popt.multivariate = options_.multivariate;
  popt.bandwidth_weighted = options_.bandwidth_weighted;

  // One model per group of dimensions: all at once (multivariate) or one at a time.
  std::vector<std::vector<size_t>> groups;
  std::vector<size_t> modelled;
  for (size_t j = 0; j < space.params.size(); ++j) {
    if (space.params[j].kind != ParamKind::kFixed) modelled.push_back(j);
  }
  if (options_.multivariate) {
    if (!modelled.empty()) groups.push_back(modelled);
  } else {
    for (size_t j : modelled) groups.push_back({j});
  }

  std::vector<double> chosen(space.params.size(), 0.0);
  const auto m = static_cast<size_t>(std::max(1, options_.n_ei_candidates));
  std::vector<double> candidates, log_l, log_g;
  for (const std::vector<size_t>& group : groups) {
    std::vector<const ParamSpec*> dims;
    for (size_t j : group) dims.push_back(&space.params[j]);
    const ParzenEstimator l(dims, group, good_rows, good_w, popt);
    const ParzenEstimator g(dims, group, bad_rows, bad_w, popt);
    candidates.clear();
    l.Sample(rng, m, candidates);
    l.LogPdf(candidates, log_l);
    g.LogPdf(candidates, log_g);
    size_t best = 0;
    for (size_t i = 1; i < m; ++i) {
      if (log_l[i] - log_g[i] > log_l[best] - log_g[best]) best = i;
    }
    for (size_t k = 0; k < group.size(); ++k) chosen[group[k]] = candidates[best * group.size() + k];
  }
  ParamSample out;
  for (size_t j = 0; j < space.params.size(); ++j) out.emplace(space.params[j].name, Decode(space.params[j], chosen[j]));
  return out;
}

}  // namespace stoke::hpo
