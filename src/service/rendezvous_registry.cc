#include "service/rendezvous_registry.h"

#include "elastic/keys.h"
#include "elastic/memory_kv_store.h"

namespace stoke::service {

RendezvousRegistry::~RendezvousRegistry() {
  std::map<JobId, Entry> entries;
  {
    std::lock_guard lock(mu_);
    entries.swap(entries_);
  }
  for (auto& [id, entry] : entries) entry.coordinator->Stop();
}

void RendezvousRegistry::Open(JobId id, int min_workers, int max_workers) {
  std::lock_guard lock(mu_);
  if (entries_.contains(id)) return;
  Entry entry;
  entry.store = std::make_shared<elastic::MemoryKvStore>();
  elastic::CoordinatorRunnerOptions options = defaults_;
  options.coordinator.min_workers = min_workers;
  options.coordinator.max_workers = max_workers;
  entry.coordinator = std::make_unique<elastic::CoordinatorRunner>(*entry.store, clock_, options);
  entry.coordinator->Start();
  entries_.emplace(id, std::move(entry));
}

void RendezvousRegistry::Close(JobId id) {
  Entry entry;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    entry = std::move(it->second);
    entries_.erase(it);
  }
  entry.coordinator->Stop();  // outside the lock: Stop joins the polling thread
}

std::shared_ptr<elastic::KvStore> RendezvousRegistry::Find(JobId id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.store;
}

std::optional<std::string> RendezvousRegistry::Done(JobId id) const {
  auto store = Find(id);
  if (!store) return std::nullopt;
  auto done = store->Get(elastic::keys::kDone);
  if (!done.has_value()) return std::nullopt;
  return *done;
}

}  // namespace stoke::service
