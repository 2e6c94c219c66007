#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "elastic/kv_store.h"

namespace stoke::elastic {

// A worker's place in one generation.
struct Membership {
  int64_t generation = 0;
  int rank = -1;  // -1: not a member
  int world_size = 0;
  std::vector<int64_t> members;
};

struct MembershipClientOptions {
  std::chrono::milliseconds heartbeat_interval{300};
  // Longest single store wait; bounds how long Stop() and done-checks take.
  std::chrono::milliseconds poll_slice{500};
  std::string info;  // free text stored at workers/<id> (host, pid)
};

// The worker side of the membership protocol: registers (gets a worker id), heartbeats and
// watches for new generations on two owned threads, and answers "which generation am I in".
// Thread-safe.
class MembershipClient {
 public:
  static Result<std::unique_ptr<MembershipClient>> Join(KvStore& store, MembershipClientOptions options);
  ~MembershipClient();
  MembershipClient(const MembershipClient&) = delete;
  MembershipClient& operator=(const MembershipClient&) = delete;

  int64_t worker_id() const { return worker_id_; }
  // Newest generation number the watcher has seen (0 before the first one).
  int64_t latest_generation() const { return latest_.load(); }

  // Reads generation `gen` (which must be published). rank is -1 when this worker is not in it.
  Result<Membership> MembershipOf(int64_t gen);
  // Waits for the newest generation >= min_gen that includes this worker.
  // kCancelled: the job is done. kFailedPrecondition: this worker was a member before and a
  // newer generation left it out (released by a shrink, or declared dead). kDeadlineExceeded.
  Result<Membership> AwaitGeneration(int64_t min_gen, std::chrono::milliseconds timeout);

  // Tells the coordinator a collective failed in `gen`.
  Status ReportFailure(int64_t gen);
  // Asks the coordinator to take this worker out of the job (appends a leave event) while it
  // keeps heartbeating and watching: the worker trains on in its current generation until the
  // generation without it is published, and exits at that step boundary. Idempotent.
  Status RequestLeave();
  bool leave_requested() const { return leave_requested_.load(); }
  // Stops heartbeats and appends a leave event unless RequestLeave() already did (graceful exit).
  Status Leave();
  // Marks the job finished for everyone (rank 0 at the end of training).
  Status FinishJob(std::string_view outcome);
  bool JobDone();
  // Stops the background threads without telling anyone (what a crash looks like; tests).
  void StopHeartbeats();

 private:
  MembershipClient(KvStore& store, MembershipClientOptions options, int64_t worker_id);
  void HeartbeatLoop();
  void WatchLoop();
  void StopThreads();

  KvStore& store_;
  const MembershipClientOptions options_;
  const int64_t worker_id_;
  std::atomic<int64_t> latest_{0};
  std::atomic<int64_t> last_member_gen_{0};  // newest generation that included this worker
  std::atomic<bool> leave_requested_{false};

  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread heartbeat_;
  std::thread watcher_;
};

}  // namespace stoke::elastic
