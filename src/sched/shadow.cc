#include "sched/shadow.h"

#include <algorithm>

namespace stoke::sched {

Shadow ComputeShadow(const Amount& free_now, const Amount& need, std::vector<Release> releases, UnixMillis now) {
  Shadow shadow;
  if (need.FitsIn(free_now)) {
    shadow.known = true;
    shadow.at = now;
    shadow.extra = free_now - need;
    return shadow;
  }
  std::stable_sort(releases.begin(), releases.end(),
                   [](const Release& a, const Release& b) { return a.at < b.at; });
  Amount available = free_now;
  for (size_t i = 0; i < releases.size(); ++i) {
    available += releases[i].amount;
    // Releases at the same instant all count before deciding.
    if (i + 1 < releases.size() && releases[i + 1].at == releases[i].at) continue;
    if (need.FitsIn(available)) {
      shadow.known = true;
      shadow.at = std::max(releases[i].at, now);
      shadow.extra = available - need;
      return shadow;
    }
  }
  shadow.extra = (free_now - need).NonNegative();
  return shadow;
}

}  // namespace stoke::sched
