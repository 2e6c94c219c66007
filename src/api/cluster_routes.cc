#include "api/job_json.h"
#include "api/routes.h"

namespace stoke::api {

using nlohmann::json;

json ClusterToJson(const service::ClusterSnapshot& snap) {
  int cpus_used = 0;
  int64_t mem_used = 0;
  std::map<int, const Job*> cpu_owner, gpu_owner;
  for (const Job& j : snap.running) {
    for (int c : j.allocation.cpus) cpu_owner[c] = &j;
    for (int g : j.allocation.gpus) gpu_owner[g] = &j;
    cpus_used += static_cast<int>(j.allocation.cpus.size());
    mem_used += j.spec.resources.memory_bytes;
  }
  json gpus = json::array();
  for (const auto& g : snap.pool.gpus) {
    auto it = gpu_owner.find(g.index);
    gpus.push_back({{"index", g.index},
                    {"name", g.name},
                    {"memory", g.memory_bytes},
                    {"job", it == gpu_owner.end() ? json(nullptr) : json(it->second->id)},
                    {"user", it == gpu_owner.end() ? json(nullptr) : json(it->second->user)}});
  }
  json slots = json::array();
  for (int i = 0; i < snap.pool.cpu_slots; ++i) {
    auto it = cpu_owner.find(i);
    slots.push_back({{"kind", "cpu"},
                     {"index", i},
                     {"job", it == cpu_owner.end() ? json(nullptr) : json(it->second->id)},
                     {"user", it == cpu_owner.end() ? json(nullptr) : json(it->second->user)}});
  }
  json running = json::array(), queue = json::array();
  for (const Job& j : snap.running) running.push_back(JobToJson(j));
  for (const Job& j : snap.queued) {
    json q = JobToJson(j);
    auto it = snap.waiting_reason.find(j.id);
    if (it != snap.waiting_reason.end()) q["waiting_reason"] = it->second;
    queue.push_back(std::move(q));
  }
  int gpus_used = static_cast<int>(gpu_owner.size());
  return json{{"cpus", {{"total", snap.pool.cpu_slots}, {"used", cpus_used}}},
              {"gpus_summary", {{"total", snap.pool.gpus.size()}, {"used", gpus_used}}},
              {"gpus", gpus},
              {"memory", {{"total", snap.pool.memory_bytes}, {"used", mem_used}}},
              {"slots", slots},
              {"running", running},
              {"queue", queue}};
}

std::vector<Route> ClusterRoutes(service::JobRunner& runner) {
  std::vector<Route> r;
  r.push_back({"GET", "/api/v1/cluster", "/api/v1/cluster", "Slots, GPUs, who runs what, and the queue", true,
               [&runner](const auto&, auto& res, const auto&) -> Status {
                 WriteJson(res, 200, ClusterToJson(runner.Snapshot()).dump());
                 return Status::Ok();
               }});
  return r;
}

}  // namespace stoke::api
