#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "elastic/coordinator.h"
#include "elastic/kv_store.h"

namespace stoke::elastic {

struct CoordinatorRunnerOptions {
  CoordinatorOptions coordinator;
  std::chrono::milliseconds tick{100};
  // An event slot counted but never written (its writer died in between) is skipped after this.
  std::chrono::milliseconds lost_event_grace{2000};
};

// Drives a Coordinator from one job's KvStore: reads the event log, heartbeats and the scale
// target, and publishes generations (gen/<N>/members, then gen/latest). The server runs one per
// elastic job; tests and `stoke-worker rendezvous` run it beside a shared store.
// Poll() is for one thread; Start()/Stop() run Poll() on an owned thread. current() is thread-safe.
class CoordinatorRunner {
 public:
  CoordinatorRunner(KvStore& store, const Clock& clock, CoordinatorRunnerOptions options);
  ~CoordinatorRunner();
  CoordinatorRunner(const CoordinatorRunner&) = delete;
  CoordinatorRunner& operator=(const CoordinatorRunner&) = delete;

  // One round. Returns the generation it published, if any.
  Result<std::optional<Generation>> Poll();

  void Start();
  void Stop();

  Generation current() const;
  bool job_done() const { return done_.load(); }

 private:
  Status Recover();
  Status ReadEvents(UnixMillis now);

  KvStore& store_;
  const Clock& clock_;
  const CoordinatorRunnerOptions options_;
  Coordinator coordinator_;  // only touched by the polling thread
  bool recovered_ = false;
  int64_t next_event_ = 0;
  std::optional<std::chrono::steady_clock::time_point> missing_event_since_;
  int last_target_ = -2;
  std::atomic<bool> done_{false};

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;        // GUARDED_BY(mu_)
  Generation published_;     // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace stoke::elastic
