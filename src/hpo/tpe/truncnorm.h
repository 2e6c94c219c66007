#pragma once

#include "hpo/rng.h"

// Normal distribution truncated to [low, high]: the kernel of the TPE Parzen estimators.
namespace stoke::hpo::truncnorm {

// Standard normal CDF.
double NormalCdf(double x);
// log(Phi(b) - Phi(a)) for a <= b, accurate in both tails (uses erfc on the far side).
double LogMass(double a, double b);
// Log density at x of N(mu, sigma) truncated to [low, high]; -inf outside.
double LogPdf(double x, double mu, double sigma, double low, double high);
// A draw from N(mu, sigma) truncated to [low, high]. By rejection from the untruncated normal,
// which accepts at least a third of the draws for the kernels TPE builds (mu inside the bounds,
// sigma at most high - low); after 64 misses it falls back to the inverse of the CDF.
double Sample(Rng& rng, double mu, double sigma, double low, double high);

}  // namespace stoke::hpo::truncnorm
