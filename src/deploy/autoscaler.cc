#include "deploy/autoscaler.h"

#include <algorithm>
#include <cmath>

namespace stoke::deploy {

void Autoscaler::Observe(int64_t now_ms, double in_flight) {
  samples_.emplace_back(now_ms, in_flight);
  while (!samples_.empty() && samples_.front().first < now_ms - policy_.window_ms) samples_.pop_front();
}

double Autoscaler::MeanInFlight() const {
  if (samples_.empty()) return 0;
  double sum = 0;
  for (const auto& [t, v] : samples_) sum += v;
  return sum / static_cast<double>(samples_.size());
}

int Autoscaler::Desired(int64_t now_ms, int current, int min, int max) {
  int want = static_cast<int>(std::ceil(MeanInFlight() / std::max(0.01, policy_.target_in_flight) - 1e-9));
  want = std::clamp(want, min, max);
  int clamped_current = std::clamp(current, min, max);
  if (want >= clamped_current) {
    low_since_ms_ = -1;
    return want;
  }
  if (low_since_ms_ < 0) low_since_ms_ = now_ms;
  if (now_ms - low_since_ms_ < policy_.scale_down_after_ms) return clamped_current;
  low_since_ms_ = now_ms;  // the next step down waits a full period again
  return clamped_current - 1;
}

}  // namespace stoke::deploy
