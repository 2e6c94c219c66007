#include "hpo/tpe/truncnorm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace stoke::hpo::truncnorm {
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
const double kLogSqrt2Pi = 0.5 * std::log(2.0 * std::numbers::pi);

// Upper tail 1 - Phi(x).
double UpperTail(double x) { return 0.5 * std::erfc(x * kInvSqrt2); }

// Inverse of Phi by bisection on erfc: slow but only used on the rare fallback path.
double InverseCdf(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * std::max(1.0, std::fabs(lo)); ++i) {
    const double mid = 0.5 * (lo + hi);
    if (NormalCdf(mid) < p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

}  // namespace

double NormalCdf(double x) { return 0.5 * std::erfc(-x * kInvSqrt2); }

double LogMass(double a, double b) {
  double mass;
  if (a > 0) {
    mass = UpperTail(a) - UpperTail(b);
  } else if (b < 0) {
    mass = UpperTail(-b) - UpperTail(-a);
  } else {
    mass = 1.0 - UpperTail(-a) - UpperTail(b);
  }
  return std::log(std::max(mass, std::numeric_limits<double>::min()));
}

double LogPdf(double x, double mu, double sigma, double low, double high) {
  if (x < low || x > high) return -std::numeric_limits<double>::infinity();
  const double z = (x - mu) / sigma;
  return -0.5 * z * z - kLogSqrt2Pi - std::log(sigma) - LogMass((low - mu) / sigma, (high - mu) / sigma);
}

double Sample(Rng& rng, double mu, double sigma, double low, double high) {
  if (!(high > low)) return low;
  for (int i = 0; i < 64; ++i) {
    const double x = mu + sigma * rng.Normal();
    if (x >= low && x <= high) return x;
  }
  const double pa = NormalCdf((low - mu) / sigma);
  const double pb = NormalCdf((high - mu) / sigma);
  const double x = mu + sigma * InverseCdf(pa + rng.Uniform01() * (pb - pa));
  return std::clamp(x, low, high);
}

}  // namespace stoke::hpo::truncnorm
