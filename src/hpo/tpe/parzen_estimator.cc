#include "hpo/tpe/parzen_estimator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>

#include "hpo/tpe/truncnorm.h"

namespace stoke::hpo {
namespace {

constexpr double kSigma0 = 0.2;  // Scott-rule scale for multivariate bandwidths
constexpr double kEps = 1e-12;

// Neighbour-distance bandwidths of the univariate TPE: each kernel gets the larger of the gaps to
// its sorted neighbours (bounds count as neighbours at the ends).
std::vector<double> NeighbourSigmas(const std::vector<double>& mus, double low, double high, bool endpoints) {
  const size_t n = mus.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return mus[a] < mus[b]; });
  std::vector<double> sorted(n + 2);
  sorted[0] = low;
  for (size_t i = 0; i < n; ++i) sorted[i + 1] = mus[order[i]];
  sorted[n + 1] = high;
  std::vector<double> sorted_sigma(n);
  for (size_t i = 0; i < n; ++i) {
    sorted_sigma[i] = std::max(sorted[i + 1] - sorted[i], sorted[i + 2] - sorted[i + 1]);
  }
  if (!endpoints && n >= 2) {
    sorted_sigma[0] = sorted[2] - sorted[1];
    sorted_sigma[n - 1] = sorted[n] - sorted[n - 1];
  }
  std::vector<double> sigmas(n);
  for (size_t i = 0; i < n; ++i) sigmas[order[i]] = sorted_sigma[i];
  return sigmas;
}

double LogSumExp(std::span<const double> terms) {
  double max = -std::numeric_limits<double>::infinity();
  for (double t : terms) max = std::max(max, t);
  if (!std::isfinite(max)) return max;
  double sum = 0;
  for (double t : terms) {
    const double d = t - max;
    if (d > -60) sum += std::exp(d);  // smaller terms do not change a double sum
  }
  return max + std::log(sum);
}

}  // namespace

ParzenEstimator::ParzenEstimator(const std::vector<const ParamSpec*>& dims, const std::vector<size_t>& coord_index,
                                 const std::vector<const std::vector<double>*>& rows, std::span<const double> weights,
                                 const ParzenOptions& options) {
  const size_t n = rows.size();
  const size_t kernels = n + 1;  // observations, then the prior
  // Kernel weights: observation weights plus the prior weight, normalized.
  std::vector<double> w(weights.begin(), weights.end());
  w.push_back(options.prior_weight);
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  log_weights_.resize(kernels);
  cumulative_.resize(kernels);
  double running = 0;
  for (size_t k = 0; k < kernels; ++k) {
    log_weights_[k] = std::log(w[k] / total);
    running += w[k] / total;
    cumulative_[k] = running;
  }
  cumulative_.back() = 1.0;

  const double d_count = static_cast<double>(dims.size());
  for (size_t j = 0; j < dims.size(); ++j) {
    const ParamSpec& spec = *dims[j];
    Dim& dim = dims_.emplace_back();
    if (spec.kind == ParamKind::kCategorical) {
      dim.categorical = true;
      dim.choices = spec.choices.size();
      const size_t c_count = dim.choices;
      dim.prob.assign(kernels * c_count, options.prior_weight / static_cast<double>(kernels));
      for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<size_t>(std::llround((*rows[i])[coord_index[j]]));
        dim.prob[i * c_count + std::min(c, c_count - 1)] += 1.0;
      }
      dim.log_prob.resize(dim.prob.size());
      dim.log_mix.assign(c_count, 0.0);
      for (size_t k = 0; k < kernels; ++k) {
        double row_sum = 0;
        for (size_t c = 0; c < c_count; ++c) row_sum += dim.prob[k * c_count + c];
        for (size_t c = 0; c < c_count; ++c) {
          double& p = dim.prob[k * c_count + c];
          p = row_sum > 0 ? p / row_sum : 1.0 / static_cast<double>(c_count);
          dim.log_prob[k * c_count + c] = std::log(p);
          dim.log_mix[c] += std::exp(log_weights_[k]) * p;
        }
      }
      for (double& m : dim.log_mix) m = std::log(m);
      continue;
    }
    const CoordinateBounds b = InternalBounds(spec);
    dim.low = b.low;
    dim.high = b.high;
    const double range = b.high - b.low;
    dim.mu.resize(kernels);
    for (size_t i = 0; i < n; ++i) dim.mu[i] = (*rows[i])[coord_index[j]];
    dim.mu[n] = 0.5 * (b.low + b.high);
    if (options.multivariate) {
      const double s = kSigma0 * std::pow(std::max<double>(static_cast<double>(n), 1.0), -1.0 / (d_count + 4)) * range;
      dim.sigma.assign(kernels, s);
    } else {
      dim.sigma = NeighbourSigmas(dim.mu, b.low, b.high, options.consider_endpoints);
    }
    const double max_sigma = range;
    const double min_sigma = options.consider_magic_clip ? range / std::min(100.0, 1.0 + static_cast<double>(kernels))
                                                         : kEps;
    for (double& s : dim.sigma) s = std::clamp(s, min_sigma, max_sigma);
    dim.sigma[n] = range;  // the prior spans the whole range
    dim.log_norm.resize(kernels);
    dim.inv_sigma.resize(kernels);
    const double log_sqrt_2pi = 0.5 * std::log(2.0 * std::numbers::pi);
    for (size_t k = 0; k < kernels; ++k) {
      double& s = dim.sigma[k];
      if (!(s > 0)) s = kEps;  // a zero-width range (low == high)
      const double a = (b.low - dim.mu[k]) / s, z = (b.high - dim.mu[k]) / s;
      // Kernels far from both bounds lose no mass (erfc(8/sqrt2) ~ 1e-15): skip two erfc calls.
      const double log_mass = (a < -8 && z > 8) ? 0.0 : truncnorm::LogMass(a, z);
      dim.log_norm[k] = (options.bandwidth_weighted ? 0.0 : -std::log(s)) - log_sqrt_2pi - log_mass;
      dim.inv_sigma[k] = 1.0 / s;
    }
  }
}

void ParzenEstimator::Sample(Rng& rng, size_t count, std::vector<double>& out) const {
  for (size_t i = 0; i < count; ++i) {
    const double u = rng.Uniform01();
    const size_t k = std::min<size_t>(
        static_cast<size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin()),
        cumulative_.size() - 1);
    for (const Dim& dim : dims_) {
      if (dim.categorical) {
        const std::span<const double> row(dim.prob.data() + k * dim.choices, dim.choices);
        out.push_back(static_cast<double>(rng.Categorical(row)));
      } else {
        out.push_back(truncnorm::Sample(rng, dim.mu[k], dim.sigma[k], dim.low, dim.high));
      }
    }
  }
}

void ParzenEstimator::LogPdf(std::span<const double> points, std::vector<double>& out) const {
  const size_t d = dims_.size();
  const size_t m = d == 0 ? 0 : points.size() / d;
  out.assign(m, 0.0);
  if (d == 1 && dims_[0].categorical) {  // 1-D categorical: the mixture is precomputed
    for (size_t i = 0; i < m; ++i) {
      const auto c = static_cast<size_t>(std::llround(points[i]));
      out[i] = dims_[0].log_mix[std::min(c, dims_[0].choices - 1)];
    }
    return;
  }
  const size_t kernels = log_weights_.size();
  std::vector<double> terms(kernels);
  for (size_t i = 0; i < m; ++i) {
    const double* x = points.data() + i * d;
    for (size_t k = 0; k < kernels; ++k) terms[k] = log_weights_[k];
    for (size_t j = 0; j < d; ++j) {
      const Dim& dim = dims_[j];
      if (dim.categorical) {
        const auto c = std::min(static_cast<size_t>(std::llround(x[j])), dim.choices - 1);
        for (size_t k = 0; k < kernels; ++k) terms[k] += dim.log_prob[k * dim.choices + c];
      } else {
        const double xj = x[j];
        const double* mu = dim.mu.data();
        const double* inv_sigma = dim.inv_sigma.data();
        const double* log_norm = dim.log_norm.data();
        for (size_t k = 0; k < kernels; ++k) {
          const double z = (xj - mu[k]) * inv_sigma[k];
          terms[k] += log_norm[k] - 0.5 * z * z;
        }
      }
    }
    out[i] = LogSumExp(terms);
  }
}

}  // namespace stoke::hpo
