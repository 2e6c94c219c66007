#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/job.h"
#include "common/status.h"

namespace httplib {
class Client;
}

namespace stoke::deploy {

// An HTTP answer relayed from a replica (or made by the router).
struct RoutedResponse {
  int status = 0;
  std::string body;
  JobId replica = 0;  // who answered; 0 = the router itself
};

// Counters of one router for /metrics.
struct RouterStats {
  int64_t requests = 0;
  int64_t ok = 0, client_errors = 0, server_errors = 0;
  int64_t retries = 0;
  std::vector<double> latency_bounds_s;   // histogram upper bounds, seconds
  std::vector<int64_t> latency_counts;    // cumulative per bound, Prometheus style (last = +Inf)
  double latency_sum_s = 0;
};

// Sends each scoring request to the ready replica with the fewest requests outstanding (ties go
// round-robin), over pooled keep-alive connections. A transport failure or 5xx from a replica is
// retried once on another replica (scoring has no side effects), so a replica that dies mid-load
// costs at most the requests it was computing when both tries land on dying replicas.
// Thread-safe.
class ReplicaRouter {
 public:
  explicit ReplicaRouter(std::chrono::milliseconds request_timeout = std::chrono::seconds(60));
  ~ReplicaRouter();

  // Starts routing to a replica (idempotent).
  void Add(JobId id, const std::string& host, int port);
  // Stops routing new requests to it; in-flight ones finish.
  void Drain(JobId id);
  // Forgets it (after Drain and outstanding == 0, or when its job ended).
  void Remove(JobId id);

  // Relays `body` as POST /predict. When no replica is ready, waits up to `wait_for_replica`
  // for one; then answers 503.
  RoutedResponse Forward(const std::string& body, std::chrono::milliseconds wait_for_replica);

  // Requests inside Forward right now, including those waiting for a replica.
  int64_t in_flight() const;
  int64_t Outstanding(JobId id) const;  // -1 when unknown
  std::vector<JobId> Routable() const;  // ready, not draining
  RouterStats stats() const;

 private:
  struct Replica {
    std::string host;
    int port = 0;
    bool draining = false;
    int64_t outstanding = 0;
    std::vector<std::unique_ptr<httplib::Client>> idle;  // pooled connections
  };

  // Picks and reserves a replica (outstanding+1); 0 when none is routable.
  JobId Pick(JobId avoid);
  std::unique_ptr<httplib::Client> TakeClient(JobId id);
  void Release(JobId id, std::unique_ptr<httplib::Client> client, bool reuse);
  void Record(int status, double seconds, bool retried);

  std::chrono::milliseconds timeout_;
  mutable std::mutex mu_;
  std::condition_variable ready_cv_;
  std::map<JobId, Replica> replicas_;  // GUARDED_BY(mu_)
  uint64_t rr_ = 0;                    // GUARDED_BY(mu_)
  int64_t in_flight_ = 0;              // GUARDED_BY(mu_)
  RouterStats stats_;                  // GUARDED_BY(mu_)
};

}  // namespace stoke::deploy
