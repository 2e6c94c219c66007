#include "hpo/gp/gp_sampler.h"

#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>

#include "hpo/tpe/truncnorm.h"

namespace stoke::hpo {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Maps internal coordinates to unit-cube features (one-hot for categoricals).
class FeatureMap {
 public:
  explicit FeatureMap(const SearchSpace& space) : space_(space) {
    for (const ParamSpec& spec : space.params) {
      if (spec.kind == ParamKind::kCategorical) {
        dims_ += static_cast<int>(spec.choices.size());
      } else if (spec.kind != ParamKind::kFixed) {
        ++dims_;
      }
    }
  }
  int dims() const { return dims_; }

  void Map(const std::vector<double>& coords, double* out) const {
    int f = 0;
    for (size_t j = 0; j < space_.params.size(); ++j) {
      const ParamSpec& spec = space_.params[j];
      if (spec.kind == ParamKind::kFixed) continue;
      if (spec.kind == ParamKind::kCategorical) {
        const auto c = static_cast<size_t>(std::llround(coords[j]));
        for (size_t i = 0; i < spec.choices.size(); ++i) out[f++] = i == c ? 1.0 : 0.0;
        continue;
      }
      const CoordinateBounds b = InternalBounds(spec);
      out[f++] = b.high > b.low ? (coords[j] - b.low) / (b.high - b.low) : 0.5;
    }
  }

 private:
  const SearchSpace& space_;
  int dims_ = 0;
};

double Matern52(double r2, double inv_l) {
  const double r = std::sqrt(std::max(r2, 0.0)) * inv_l * std::sqrt(5.0);
  return (1.0 + r + r * r / 3.0) * std::exp(-r);
}

struct GpModel {
  RowMatrix x;  // n x d features, one row per observation
  Eigen::LLT<MatrixXd> llt;
  VectorXd alpha;
  double inv_l = 1;
  double best = 0;  // lowest standardized target
};

double SquaredDistance(const double* a, const double* b, int d) {
  double s = 0;
  for (int i = 0; i < d; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

// Expected improvement (minimization) of the standardized model at feature vector `f`.
double ExpectedImprovement(const GpModel& m, const double* f, double xi, VectorXd& k) {
  const auto n = m.x.rows();
  const int d = static_cast<int>(m.x.cols());
  for (Eigen::Index i = 0; i < n; ++i) k(i) = Matern52(SquaredDistance(&m.x(i, 0), f, d), m.inv_l);
  const double mean = k.dot(m.alpha);
  const VectorXd v = m.llt.matrixL().solve(k);
  const double var = std::max(1.0 - v.squaredNorm(), 1e-12);
  const double sd = std::sqrt(var);
  const double z = (m.best - mean - xi) / sd;
  const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi);
  return sd * (z * truncnorm::NormalCdf(z) + pdf);
}

}  // namespace

Status GpSampler::Validate(const GpOptions& o) {
  if (o.n_startup_trials < 1) return Status::InvalidArgument("n_startup_trials must be >= 1", "n_startup_trials");
  if (o.n_candidates < 1) return Status::InvalidArgument("n_candidates must be >= 1", "n_candidates");
  if (o.n_local_starts < 0) return Status::InvalidArgument("n_local_starts must be >= 0", "n_local_starts");
  if (o.n_local_steps < 0) return Status::InvalidArgument("n_local_steps must be >= 0", "n_local_steps");
  if (o.max_observations < 2) return Status::InvalidArgument("max_observations must be >= 2", "max_observations");
  return Status::Ok();
}

Result<ParamSample> GpSampler::Sample(const TrialHistory& history, const SearchSpace& space, Rng& rng) const {
  // Observations: completed trials with a value; running ones join with the worst loss.
  struct Obs {
    const std::vector<double>* coords;
    double loss;
    size_t order;
  };
  std::vector<Obs> done;
  std::vector<const std::vector<double>*> running;
  const auto& trials = history.trials();
  for (size_t i = 0; i < trials.size(); ++i) {
    const TrialRecord& t = trials[i];
    if (t.state == TrialState::kCompleted && !t.reports.empty()) {
      const double loss = history.Loss(t.reports.back().value);
      if (std::isfinite(loss)) done.push_back({&t.coords, loss, i});
    } else if (t.state == TrialState::kRunning) {
      running.push_back(&t.coords);
    }
  }
  if (static_cast<int>(done.size()) < options_.n_startup_trials) return random_.Sample(history, space, rng);

  // Keep at most max_observations: the best half and the newest of the rest.
  const auto cap = static_cast<size_t>(options_.max_observations);
  if (done.size() > cap) {
    std::stable_sort(done.begin(), done.end(), [](const Obs& a, const Obs& b) { return a.loss < b.loss; });
    std::vector<Obs> kept(done.begin(), done.begin() + static_cast<std::ptrdiff_t>(cap / 2));
    std::vector<Obs> rest(done.begin() + static_cast<std::ptrdiff_t>(cap / 2), done.end());
    std::stable_sort(rest.begin(), rest.end(), [](const Obs& a, const Obs& b) { return a.order > b.order; });
    kept.insert(kept.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(cap - cap / 2));
    done = std::move(kept);
  }
  const size_t liars = std::min(running.size(), cap);
  double worst = -std::numeric_limits<double>::infinity();
  double mean = 0;
  for (const Obs& o : done) {
    worst = std::max(worst, o.loss);
    mean += o.loss;
  }
  mean /= static_cast<double>(done.size());
  double var = 0;
  for (const Obs& o : done) var += (o.loss - mean) * (o.loss - mean);
  const double sd = var > 0 ? std::sqrt(var / static_cast<double>(done.size())) : 1.0;

  const FeatureMap features(space);
  const int d = features.dims();
  if (d == 0) return random_.Sample(history, space, rng);
  const auto n = static_cast<Eigen::Index>(done.size() + liars);
  GpModel model;
  model.x.resize(n, d);
  VectorXd y(n);
  std::vector<double> row(static_cast<size_t>(d));
  for (Eigen::Index i = 0; i < n; ++i) {
    const bool is_liar = static_cast<size_t>(i) >= done.size();
    const std::vector<double>& coords = is_liar ? *running[static_cast<size_t>(i) - done.size()]
                                                : *done[static_cast<size_t>(i)].coords;
    features.Map(coords, row.data());
    for (int j = 0; j < d; ++j) model.x(i, j) = row[static_cast<size_t>(j)];
    y(i) = ((is_liar ? worst : done[static_cast<size_t>(i)].loss) - mean) / sd;
  }
  model.best = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < done.size(); ++i) model.best = std::min(model.best, y(static_cast<Eigen::Index>(i)));

  // Squared distances once; then pick (length scale, noise) by log marginal likelihood.
  MatrixXd r2(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j <= i; ++j) {
      r2(i, j) = r2(j, i) = SquaredDistance(&model.x(i, 0), &model.x(j, 0), d);
    }
  }
  static constexpr double kLengths[] = {0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5};
  static constexpr double kNoises[] = {1e-6, 1e-3, 1e-2, 1e-1};
  const double scale = std::sqrt(static_cast<double>(d));
  double best_lml = -std::numeric_limits<double>::infinity();
  MatrixXd k(n, n);
  for (double l : kLengths) {
    const double inv_l = 1.0 / (l * scale);
    for (double noise : kNoises) {
      for (Eigen::Index i = 0; i < n; ++i) {
        for (Eigen::Index j = 0; j <= i; ++j) k(i, j) = k(j, i) = Matern52(r2(i, j), inv_l);
        k(i, i) += noise;
      }
      Eigen::LLT<MatrixXd> llt(k);
      if (llt.info() != Eigen::Success) continue;
      const VectorXd alpha = llt.solve(y);
      const double lml = -0.5 * y.dot(alpha) - llt.matrixLLT().diagonal().array().log().sum();
      if (lml > best_lml) {
        best_lml = lml;
        model.llt = llt;
        model.alpha = alpha;
        model.inv_l = inv_l;
      }
    }
  }
  if (!std::isfinite(best_lml)) return random_.Sample(history, space, rng);

  // Candidates: uniform random points, scored by EI.
  const size_t p = space.params.size();
  const auto m = static_cast<size_t>(options_.n_candidates);
  std::vector<std::vector<double>> cands(m, std::vector<double>(p));
  std::vector<double> scores(m);
  VectorXd kbuf(n);
  for (size_t c = 0; c < m; ++c) {
    for (size_t j = 0; j < p; ++j) cands[c][j] = RandomSampler::SampleCoordinate(space.params[j], rng);
    features.Map(cands[c], row.data());
    scores[c] = ExpectedImprovement(model, row.data(), options_.xi, kbuf);
  }
  // Local refinement of the best few: Gaussian moves in the unit cube, shrinking.
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), size_t{0});
  const size_t starts = std::min(m, static_cast<size_t>(options_.n_local_starts));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(starts), order.end(),
                    [&](size_t a, size_t b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a < b); });
  for (size_t s = 0; s < starts; ++s) {
    std::vector<double>& x = cands[order[s]];
    double& score = scores[order[s]];
    for (int step = 0; step < options_.n_local_steps; ++step) {
      const double width = 0.1 * std::pow(0.1, static_cast<double>(step) / std::max(1, options_.n_local_steps - 1));
      std::vector<double> trial = x;
      for (size_t j = 0; j < p; ++j) {
        const ParamSpec& spec = space.params[j];
        if (spec.kind == ParamKind::kCategorical) {
          if (rng.Uniform01() < 0.1) trial[j] = static_cast<double>(rng.UniformInt(spec.choices.size()));
        } else if (spec.kind != ParamKind::kFixed) {
          const CoordinateBounds b = InternalBounds(spec);
          trial[j] = std::clamp(trial[j] + width * (b.high - b.low) * rng.Normal(), b.low, b.high);
        }
      }
      features.Map(trial, row.data());
      const double ei = ExpectedImprovement(model, row.data(), options_.xi, kbuf);
      if (ei > score) {
        score = ei;
        x = std::move(trial);
      }
    }
  }
  size_t best = 0;
  for (size_t c = 1; c < m; ++c) {
    if (scores[c] > scores[best]) best = c;
  }
  ParamSample out;
  for (size_t j = 0; j < p; ++j) out.emplace(space.params[j].name, Decode(space.params[j], cands[best][j]));
  return out;
}

}  // namespace stoke::hpo
