#include "deploy/replica_router.h"

#include <httplib.h>

#include <algorithm>

namespace stoke::deploy {

namespace {

constexpr size_t kMaxIdlePerReplica = 64;

std::string RouterError(const std::string& code, const std::string& message) {
  // Same shape as every Stoke error body; no JSON library needed for two strings without quotes.
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return R"({"error":{"code":")" + code + R"(","message":")" + escaped + R"("}})";
}

}  // namespace

ReplicaRouter::ReplicaRouter(std::chrono::milliseconds request_timeout) : timeout_(request_timeout) {
  stats_.latency_bounds_s = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  stats_.latency_counts.assign(stats_.latency_bounds_s.size() + 1, 0);
}

ReplicaRouter::~ReplicaRouter() = default;

void ReplicaRouter::Add(JobId id, const std::string& host, int port) {
  {
    std::lock_guard lock(mu_);
    Replica& r = replicas_[id];
    r.host = host;
    r.port = port;
    r.draining = false;
  }
  ready_cv_.notify_all();
}

void ReplicaRouter::Drain(JobId id) {
  std::lock_guard lock(mu_);
  if (auto it = replicas_.find(id); it != replicas_.end()) it->second.draining = true;
}

void ReplicaRouter::Remove(JobId id) {
  std::lock_guard lock(mu_);
  replicas_.erase(id);
}

int64_t ReplicaRouter::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

int64_t ReplicaRouter::Outstanding(JobId id) const {
  std::lock_guard lock(mu_);
  auto it = replicas_.find(id);
  return it == replicas_.end() ? -1 : it->second.outstanding;
}

std::vector<JobId> ReplicaRouter::Routable() const {
  std::lock_guard lock(mu_);
  std::vector<JobId> out;
  for (const auto& [id, r] : replicas_) {
    if (!r.draining) out.push_back(id);
  }
  return out;
}

RouterStats ReplicaRouter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

JobId ReplicaRouter::Pick(JobId avoid) {
  // Least outstanding; among equals, rotate so idle replicas share the load.
  JobId best = 0;
  int64_t best_load = INT64_MAX;
  size_t n = replicas_.size(), i = 0;
  std::vector<std::pair<JobId, Replica*>> order;
  for (auto& [id, r] : replicas_) order.emplace_back(id, &r);
  for (i = 0; i < n; ++i) {
    auto& [id, r] = order[(i + rr_) % n];
    if (r->draining || id == avoid) continue;
    if (r->outstanding < best_load) {
      best = id;
      best_load = r->outstanding;
    }
  }
  ++rr_;
  if (best != 0) ++replicas_[best].outstanding;
  return best;
}

std::unique_ptr<httplib::Client> ReplicaRouter::TakeClient(JobId id) {
  std::lock_guard lock(mu_);
  auto it = replicas_.find(id);
  if (it == replicas_.end()) return nullptr;
  if (!it->second.idle.empty()) {
    auto c = std::move(it->second.idle.back());
    it->second.idle.pop_back();
    return c;
  }
  auto c = std::make_unique<httplib::Client>(it->second.host, it->second.port);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);  // headers and body go out in separate writes
  c->set_connection_timeout(std::chrono::seconds(2));
  c->set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(timeout_).count(), 0);
  c->set_write_timeout(10, 0);
  return c;
}

void ReplicaRouter::Release(JobId id, std::unique_ptr<httplib::Client> client, bool reuse) {
  std::lock_guard lock(mu_);
  auto it = replicas_.find(id);
  if (it == replicas_.end()) return;
  --it->second.outstanding;
  if (reuse && client && it->second.idle.size() < kMaxIdlePerReplica) it->second.idle.push_back(std::move(client));
}

void ReplicaRouter::Record(int status, double seconds, bool retried) {
  std::lock_guard lock(mu_);
  ++stats_.requests;
  if (status < 400) ++stats_.ok;
  else if (status < 500) ++stats_.client_errors;
  else ++stats_.server_errors;
  if (retried) ++stats_.retries;
  stats_.latency_sum_s += seconds;
  for (size_t i = 0; i < stats_.latency_bounds_s.size(); ++i) {
    if (seconds <= stats_.latency_bounds_s[i]) ++stats_.latency_counts[i];
  }
  ++stats_.latency_counts.back();
}

RoutedResponse ReplicaRouter::Forward(const std::string& body, std::chrono::milliseconds wait_for_replica) {
  auto t0 = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    ++in_flight_;
  }
  RoutedResponse out;
  bool retried = false;
  JobId failed = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    JobId id = 0;
    {
      std::unique_lock lock(mu_);
      auto deadline = t0 + wait_for_replica;
      while ((id = Pick(failed)) == 0) {
        if (ready_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
          id = Pick(failed);
          break;
        }
      }
    }
    if (id == 0) {
      if (attempt == 0 || out.status == 0) {
        out = {503, RouterError("unavailable", "no replica of this deployment is ready; retry shortly"), 0};
      }
      break;
    }
    auto client = TakeClient(id);
    if (!client) {  // removed between Pick and now
      failed = id;
      continue;
    }
    httplib::Result res = client->Post("/predict", body, "application/json");
    if (res && res->status < 500) {
      out = {res->status, res->body, id};
      Release(id, std::move(client), true);
      break;
    }
    // Transport failure (replica died or is restarting) or a 5xx: try another one once.
    out = res ? RoutedResponse{res->status, res->body, id}
              : RoutedResponse{502, RouterError("unavailable", "replica " + std::to_string(id) + " did not answer: " +
                                                                    httplib::to_string(res.error())),
                               id};
    Release(id, nullptr, false);
    failed = id;
    retried = attempt == 0;
    if (attempt == 0) wait_for_replica = std::chrono::milliseconds(0);
  }
  Record(out.status, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), retried);
  {
    std::lock_guard lock(mu_);
    --in_flight_;
  }
  return out;
}

}  // namespace stoke::deploy
