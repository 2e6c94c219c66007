#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/job.h"
#include "elastic/coordinator_runner.h"
#include "elastic/kv_store.h"

namespace stoke::service {

// The rendezvous of every running elastic job, hosted by the server: one in-memory KvStore and
// one CoordinatorRunner per job. Workers reach their job's store over HTTP
// (/api/v1/jobs/{id}/kv, src/api/kv_routes.cc); the JobRunner opens and closes the entries. The
// scale target is left unset (= max): the live workers are exactly the granted units. The store
// lives in memory only: after a server restart an elastic job restarts its workers from the last
// checkpoint (JobRunner::Recover).
// Thread-safe.
class RendezvousRegistry {
 public:
  explicit RendezvousRegistry(const Clock& clock, elastic::CoordinatorRunnerOptions defaults = {})
      : clock_(clock), defaults_(defaults) {}
  ~RendezvousRegistry();

  // Creates the job's store and starts its coordinator (no-op when already open).
  void Open(JobId id, int min_workers, int max_workers);
  // Stops the coordinator and drops the store (pending Waits on it time out on their own).
  void Close(JobId id);

  // The job's store, or null when it has none. Shared so that an HTTP handler blocked in Wait
  // keeps it alive across Close().
  std::shared_ptr<elastic::KvStore> Find(JobId id) const;

  // The value of the job's `done` key ("ok" once rank 0 finished), if set.
  std::optional<std::string> Done(JobId id) const;

 private:
  struct Entry {
    std::shared_ptr<elastic::KvStore> store;
    std::unique_ptr<elastic::CoordinatorRunner> coordinator;
  };

  const Clock& clock_;
  const elastic::CoordinatorRunnerOptions defaults_;
  mutable std::mutex mu_;
  std::map<JobId, Entry> entries_;  // GUARDED_BY(mu_)
};

}  // namespace stoke::service
