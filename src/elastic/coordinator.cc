#include "elastic/coordinator.h"

#include <algorithm>

namespace stoke::elastic {

void Coordinator::OnWorkerJoined(int64_t worker, UnixMillis now) {
  auto [it, inserted] = workers_.try_emplace(worker);
  if (!inserted) return;
  it->second.last_change = now;
  last_join_ = now;
}

void Coordinator::OnHeartbeat(int64_t worker, int64_t beat, UnixMillis now) {
  auto it = workers_.find(worker);
  if (it == workers_.end() || it->second.beat == beat) return;
  it->second.beat = beat;
  it->second.last_change = now;
}

void Coordinator::OnWorkerLeft(int64_t worker) {
  auto it = workers_.find(worker);
  if (it != workers_.end() && it->second.state == WorkerState::kLive) it->second.state = WorkerState::kLeft;
}

void Coordinator::OnFailureReported(int64_t worker, int64_t generation, UnixMillis now) {
  if (generation != current_.number || failure_since_.has_value()) return;  // stale or already known
  failure_since_ = now;
}

void Coordinator::OnScaleRequest(int target) {
  target_ = std::clamp(target, options_.min_workers, options_.max_workers);
}

std::vector<int64_t> Coordinator::LiveWorkers() const {
  std::vector<int64_t> live;
  for (const auto& [id, info] : workers_) {
    if (info.state == WorkerState::kLive) live.push_back(id);
  }
  return live;
}

std::vector<int64_t> Coordinator::DesiredMembers() const {
  const size_t target = static_cast<size_t>(target_ < 0 ? options_.max_workers : target_);
  std::vector<int64_t> members;
  // Survivors keep their relative order (rank 0 stays a survivor whenever one exists).
  for (int64_t id : current_.members) {
    if (workers_.at(id).state == WorkerState::kLive && members.size() < target) members.push_back(id);
  }
  for (const auto& [id, info] : workers_) {
    if (members.size() >= target) break;
    if (info.state != WorkerState::kLive) continue;
    if (std::find(members.begin(), members.end(), id) != members.end()) continue;
    if (std::find(current_.members.begin(), current_.members.end(), id) != current_.members.end()) continue;
    members.push_back(id);
  }
  return members;
}

std::optional<Generation> Coordinator::Tick(UnixMillis now) {
  for (auto& [id, info] : workers_) {
    if (info.state == WorkerState::kLive && now - info.last_change > options_.heartbeat_timeout_ms) {
      info.state = WorkerState::kDead;
    }
  }
  std::vector<int64_t> desired = DesiredMembers();
  const bool changed = desired != current_.members;
  // A failure with no visible cause: once heartbeats had time to expire, rebuild the group anyway.
  const bool rebuild = failure_since_.has_value() && now - *failure_since_ >= options_.heartbeat_timeout_ms;
  if (!changed && !rebuild) return std::nullopt;
  if (desired.size() < static_cast<size_t>(options_.min_workers)) return std::nullopt;
  // The training state lives only in the members' processes: a generation that keeps none of them
  // would start from scratch. A member that left gracefully is still alive and holding that state,
  // so its leave is not granted (it times out, checkpoints and stops) rather than lose the state.
  const auto in_desired = [&](int64_t id) { return std::find(desired.begin(), desired.end(), id) != desired.end(); };
  const bool keeps_survivor = std::any_of(current_.members.begin(), current_.members.end(), in_desired);
  const bool member_left = std::any_of(current_.members.begin(), current_.members.end(),
                                       [&](int64_t id) { return workers_[id].state == WorkerState::kLeft; });
  if (!keeps_survivor && member_left) return std::nullopt;
  // Batch joins at a cold start or scale-up, but never delay a shrink or a repair.
  bool only_growth = changed && !rebuild && !failure_since_.has_value() &&
                     desired.size() > current_.members.size() &&
                     std::equal(current_.members.begin(), current_.members.end(), desired.begin());
  if (only_growth && now - last_join_ < options_.join_settle_ms) return std::nullopt;
  // Workers dropped by a shrink are released for good; they exit when they see it.
  for (int64_t id : current_.members) {
    if (!in_desired(id) && workers_[id].state == WorkerState::kLive) {
      workers_[id].state = WorkerState::kReleased;
    }
  }
  current_ = Generation{current_.number + 1, std::move(desired)};
  failure_since_.reset();
  return current_;
}

}  // namespace stoke::elastic
