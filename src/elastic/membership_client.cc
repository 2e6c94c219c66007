#include "elastic/membership_client.h"

#include <algorithm>

#include "elastic/event_log.h"
#include "elastic/keys.h"

namespace stoke::elastic {

namespace {
// The newest published generation, 0 when none.
Result<int64_t> ReadLatest(KvStore& store) {
  auto text = store.Get(keys::kLatestGeneration);
  if (!text.has_value()) {
    if (text.error().code() == StatusCode::kNotFound) return int64_t{0};
    return Err(text.error());
  }
  return keys::ParseInt(*text);
}
}  // namespace

Result<std::unique_ptr<MembershipClient>> MembershipClient::Join(KvStore& store, MembershipClientOptions options) {
  STOKE_ASSIGN_OR_RETURN(int64_t count, store.Add(keys::kWorkerCount, 1));
  const int64_t id = count - 1;
  STOKE_RETURN_IF_ERROR(store.Set(keys::WorkerInfo(id), options.info));
  STOKE_ASSIGN_OR_RETURN([[maybe_unused]] int64_t beat, store.Add(keys::Heartbeat(id), 1));
  STOKE_RETURN_IF_ERROR(AppendEvent(store, JoinEvent{id}));
  auto client = std::unique_ptr<MembershipClient>(new MembershipClient(store, std::move(options), id));
  client->heartbeat_ = std::thread([c = client.get()] { c->HeartbeatLoop(); });
  client->watcher_ = std::thread([c = client.get()] { c->WatchLoop(); });
  return client;
}

MembershipClient::MembershipClient(KvStore& store, MembershipClientOptions options, int64_t worker_id)
    : store_(store), options_(std::move(options)), worker_id_(worker_id) {}

MembershipClient::~MembershipClient() { StopThreads(); }

void MembershipClient::StopThreads() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
  if (watcher_.joinable()) watcher_.join();
}

void MembershipClient::StopHeartbeats() { StopThreads(); }

void MembershipClient::HeartbeatLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    (void)store_.Add(keys::Heartbeat(worker_id_), 1);  // a missed beat is what the coordinator watches for
    lock.lock();
    stop_cv_.wait_for(lock, options_.heartbeat_interval, [&] { return stop_; });
  }
}

void MembershipClient::WatchLoop() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    std::vector<std::string> next{keys::GenerationMembers(latest_.load() + 1)};
    Status s = store_.Wait(next, options_.poll_slice);
    if (s.ok()) {
      if (auto latest = ReadLatest(store_); latest.has_value()) {
        int64_t seen = latest_.load();
        while (*latest > seen && !latest_.compare_exchange_weak(seen, *latest)) {
        }
      }
    } else if (s.code() != StatusCode::kDeadlineExceeded) {
      std::unique_lock lock(mu_);  // store trouble: back off one slice, stay responsive to Stop
      stop_cv_.wait_for(lock, options_.poll_slice, [&] { return stop_; });
    }
  }
}

Result<Membership> MembershipClient::MembershipOf(int64_t gen) {
  STOKE_ASSIGN_OR_RETURN(std::string text, store_.Get(keys::GenerationMembers(gen)));
  STOKE_ASSIGN_OR_RETURN(auto ids, keys::ParseIds(text));
  Membership m;
  m.generation = gen;
  m.world_size = static_cast<int>(ids.size());
  auto it = std::find(ids.begin(), ids.end(), worker_id_);
  m.rank = it == ids.end() ? -1 : static_cast<int>(it - ids.begin());
  m.members = std::move(ids);
  if (m.rank >= 0) {
    int64_t prev = last_member_gen_.load();
    while (gen > prev && !last_member_gen_.compare_exchange_weak(prev, gen)) {
    }
  }
  return m;
}

Result<Membership> MembershipClient::AwaitGeneration(int64_t min_gen, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (JobDone()) return Err(Status::Cancelled("job finished"));
    STOKE_ASSIGN_OR_RETURN(int64_t latest, ReadLatest(store_));
    if (latest >= min_gen && latest > 0) {
      STOKE_ASSIGN_OR_RETURN(Membership m, MembershipOf(latest));
      if (m.rank >= 0) return m;
      if (last_member_gen_.load() > 0 && latest > last_member_gen_.load()) {
        return Err(Status::FailedPrecondition("left out of generation " + std::to_string(latest)));
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return Err(Status::DeadlineExceeded("no generation includes this worker"));
    auto slice = std::min<std::chrono::milliseconds>(
        options_.poll_slice, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                                 std::chrono::milliseconds(1));
    std::vector<std::string> next{keys::GenerationMembers(std::max(latest + 1, min_gen))};
    Status s = store_.Wait(next, slice);
    if (!s.ok() && s.code() != StatusCode::kDeadlineExceeded) return Err(s);
  }
}

Status MembershipClient::ReportFailure(int64_t gen) { return AppendEvent(store_, FailureEvent{worker_id_, gen}); }

Status MembershipClient::RequestLeave() {
  if (leave_requested_.exchange(true)) return Status::Ok();
  Status s = AppendEvent(store_, LeaveEvent{worker_id_});
  if (!s.ok()) leave_requested_ = false;  // let a later call retry
  return s;
}

Status MembershipClient::Leave() {
  StopThreads();
  if (leave_requested_.load()) return Status::Ok();
  return RequestLeave();
}

Status MembershipClient::FinishJob(std::string_view outcome) { return store_.Set(keys::kDone, outcome); }

bool MembershipClient::JobDone() { return store_.Get(keys::kDone).has_value(); }

}  // namespace stoke::elastic
