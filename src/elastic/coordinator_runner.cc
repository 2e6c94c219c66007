#include "elastic/coordinator_runner.h"

#include "elastic/event_log.h"
#include "elastic/keys.h"

namespace stoke::elastic {

CoordinatorRunner::CoordinatorRunner(KvStore& store, const Clock& clock, CoordinatorRunnerOptions options)
    : store_(store), clock_(clock), options_(options), coordinator_(options.coordinator) {}

CoordinatorRunner::~CoordinatorRunner() { Stop(); }

Status CoordinatorRunner::Recover() {
  auto latest = store_.Get(keys::kLatestGeneration);
  if (!latest.has_value()) {
    if (latest.error().code() == StatusCode::kNotFound) return Status::Ok();
    return latest.error();
  }
  STOKE_ASSIGN_OR_RETURN(int64_t number, keys::ParseInt(*latest));
  STOKE_ASSIGN_OR_RETURN(std::string members, store_.Get(keys::GenerationMembers(number)));
  STOKE_ASSIGN_OR_RETURN(auto ids, keys::ParseIds(members));
  coordinator_.Adopt(Generation{number, ids});
  std::lock_guard lock(mu_);
  published_ = coordinator_.current();
  return Status::Ok();
}

Status CoordinatorRunner::ReadEvents(UnixMillis now) {
  STOKE_ASSIGN_OR_RETURN(int64_t count, store_.Add(keys::kEventCount, 0));
  while (next_event_ < count) {
    auto text = store_.Get(keys::Event(next_event_));
    if (!text.has_value()) {
      if (text.error().code() != StatusCode::kNotFound) return text.error();
      // Counted but not yet written: wait for it a little, then give up on it.
      auto steady = clock_.SteadyNow();
      if (!missing_event_since_) missing_event_since_ = steady;
      if (steady - *missing_event_since_ < options_.lost_event_grace) return Status::Ok();
      ++next_event_;
      missing_event_since_.reset();
      continue;
    }
    missing_event_since_.reset();
    ++next_event_;
    auto event = ParseEvent(*text);
    if (!event.has_value()) continue;  // a foreign or corrupt entry must not stop the job
    if (auto* join = std::get_if<JoinEvent>(&*event)) coordinator_.OnWorkerJoined(join->worker, now);
    if (auto* leave = std::get_if<LeaveEvent>(&*event)) coordinator_.OnWorkerLeft(leave->worker);
    if (auto* fail = std::get_if<FailureEvent>(&*event)) {
      coordinator_.OnFailureReported(fail->worker, fail->generation, now);
    }
  }
  return Status::Ok();
}

Result<std::optional<Generation>> CoordinatorRunner::Poll() {
  if (!recovered_) {
    STOKE_RETURN_IF_ERROR(Recover());
    recovered_ = true;
  }
  const UnixMillis now = clock_.NowMillis();
  if (store_.Get(keys::kDone).has_value()) {
    done_ = true;
    return std::optional<Generation>();
  }
  STOKE_RETURN_IF_ERROR(ReadEvents(now));
  if (auto target = store_.Get(keys::kScaleTarget); target.has_value()) {
    auto n = keys::ParseInt(*target);
    if (n.has_value() && *n != last_target_) {
      last_target_ = static_cast<int>(*n);
      coordinator_.OnScaleRequest(last_target_);
    }
  }
  for (int64_t id : coordinator_.LiveWorkers()) {
    auto beat = store_.Get(keys::Heartbeat(id));
    if (!beat.has_value()) continue;
    if (auto n = keys::ParseInt(*beat); n.has_value()) coordinator_.OnHeartbeat(id, *n, now);
  }
  std::optional<Generation> gen = coordinator_.Tick(now);
  if (gen.has_value()) {
    // Members first, then the pointer: a reader that sees gen/latest = N always finds gen/N.
    STOKE_RETURN_IF_ERROR(store_.Set(keys::GenerationMembers(gen->number), keys::JoinIds(gen->members)));
    STOKE_RETURN_IF_ERROR(store_.Set(keys::kLatestGeneration, std::to_string(gen->number)));
    std::lock_guard lock(mu_);
    published_ = *gen;
  }
  return gen;
}

void CoordinatorRunner::Start() {
  {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return;
    stop_ = false;
  }
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      (void)Poll();  // store errors are transient here; the next round retries
      lock.lock();
      if (done_.load()) break;
      stop_cv_.wait_for(lock, options_.tick, [&] { return stop_; });
    }
  });
}

void CoordinatorRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Generation CoordinatorRunner::current() const {
  std::lock_guard lock(mu_);
  return published_;
}

}  // namespace stoke::elastic
