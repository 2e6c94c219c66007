#include "sched/share_ledger.h"

#include <algorithm>

namespace stoke::sched {

Amount ShareLedger::Used(const std::string& user) const {
  auto it = used_.find(user);
  return it == used_.end() ? Amount{} : it->second;
}

double ShareLedger::DominantShare(const std::string& user) const { return DominantShareWith(user, Amount{}); }

double ShareLedger::DominantShareWith(const std::string& user, const Amount& extra) const {
  Amount used = Used(user) + extra;
  double share = 0.0;
  auto consider = [&share](int64_t part, int64_t whole) {
    if (whole > 0) share = std::max(share, static_cast<double>(part) / static_cast<double>(whole));
  };
  consider(used.cpus, capacity_.cpus);
  consider(used.gpus, capacity_.gpus);
  consider(used.memory, capacity_.memory);
  return share;
}

}  // namespace stoke::sched
