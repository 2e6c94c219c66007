#pragma once

#include <cstdint>
#include <deque>

namespace stoke::deploy {

struct AutoscalePolicy {
  double target_in_flight = 4;      // concurrent requests one replica should carry
  int64_t window_ms = 2000;         // load is averaged over this window
  int64_t scale_down_after_ms = 5000;  // load must stay low this long before a replica goes
};

// Decides how many replicas a deployment wants from its load: the mean number of requests in
// flight at the router (queued at replicas or being computed) over a sliding window, divided by
// the per-replica target, clamped to [min, max]. Up-scaling follows the window at once;
// down-scaling needs the lower count to hold for scale_down_after_ms and then drops one replica
// at a time. Pure: time is an input. Not thread-safe.
class Autoscaler {
 public:
  explicit Autoscaler(AutoscalePolicy policy = {}) : policy_(policy) {}

  // Records the in-flight count seen at `now_ms`.
  void Observe(int64_t now_ms, double in_flight);
  // The replica count to aim for, given the current count (starting + ready).
  int Desired(int64_t now_ms, int current, int min, int max);

  double MeanInFlight() const;

 private:
  AutoscalePolicy policy_;
  std::deque<std::pair<int64_t, double>> samples_;
  int64_t low_since_ms_ = -1;  // when the load first asked for fewer replicas; -1 = it does not
};

}  // namespace stoke::deploy
