#pragma once

#include <map>
#include <string>

#include "sched/amount.h"

namespace stoke::sched {

// Per-user resource usage and Dominant Resource Fairness shares (Ghodsi et al., NSDI 2011): a
// user's share is the largest fraction of any one pool resource that user holds.
// A value type; not thread-safe.
class ShareLedger {
 public:
  explicit ShareLedger(Amount capacity) : capacity_(capacity) {}

  void Add(const std::string& user, const Amount& amount) { used_[user] += amount; }
  void Subtract(const std::string& user, const Amount& amount) { used_[user] -= amount; }
  Amount Used(const std::string& user) const;

  // max over the resources the pool has of used / capacity; 0 for an unknown user.
  double DominantShare(const std::string& user) const;
  // The share `user` would have holding `extra` more.
  double DominantShareWith(const std::string& user, const Amount& extra) const;

 private:
  Amount capacity_;
  std::map<std::string, Amount> used_;
};

}  // namespace stoke::sched
