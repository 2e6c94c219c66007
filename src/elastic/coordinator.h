#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/clock.h"

namespace stoke::elastic {

struct CoordinatorOptions {
  int min_workers = 1;
  int max_workers = 64;
  // A worker whose heartbeat has not changed for this long is dead.
  int64_t heartbeat_timeout_ms = 2000;
  // After a join, wait this long for more joins before publishing (batches a cold start).
  int64_t join_settle_ms = 200;
};

// One membership generation: rank r is members[r].
struct Generation {
  int64_t number = 0;
  std::vector<int64_t> members;
  friend bool operator==(const Generation&, const Generation&) = default;
};

// The membership state machine of one elastic job. Pure: no threads, store or clock inside;
// time arrives as `now` in each call, and Tick() says when to publish a new generation.
// Not thread-safe (one driver owns it).
class Coordinator {
 public:
  explicit Coordinator(CoordinatorOptions options) : options_(options) {}

  void OnWorkerJoined(int64_t worker, UnixMillis now);
  // `beat` is the worker's heartbeat counter; liveness counts from when it last changed.
  void OnHeartbeat(int64_t worker, int64_t beat, UnixMillis now);
  void OnWorkerLeft(int64_t worker);
  // A worker's collective failed in `generation`; somebody is dead or the group is broken.
  void OnFailureReported(int64_t worker, int64_t generation, UnixMillis now);
  // Desired world size (the scheduler's grant); clamped to [min_workers, max_workers].
  void OnScaleRequest(int target);

  // Resumes from a generation already published (a restarted driver reads it from the store).
  void Adopt(Generation generation) { current_ = std::move(generation); }

  // Applies heartbeat expiry and returns the generation to publish now, if any.
  std::optional<Generation> Tick(UnixMillis now);

  const Generation& current() const { return current_; }
  int target() const { return target_; }
  // Workers that joined and are neither dead, gone nor released.
  std::vector<int64_t> LiveWorkers() const;

 private:
  enum class WorkerState { kLive, kDead, kLeft, kReleased };
  struct WorkerInfo {
    WorkerState state = WorkerState::kLive;
    int64_t beat = -1;
    UnixMillis last_change = 0;
  };

  std::vector<int64_t> DesiredMembers() const;

  CoordinatorOptions options_;
  int target_ = -1;  // -1: max_workers
  std::map<int64_t, WorkerInfo> workers_;  // ordered by id = join order
  Generation current_;
  UnixMillis last_join_ = 0;
  std::optional<UnixMillis> failure_since_;  // a failure reported for the current generation
};

}  // namespace stoke::elastic
