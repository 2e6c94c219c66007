#pragma once

#include <chrono>
#include <vector>

#include "api/http_context.h"
#include "elastic/http_kv_store.h"
#include "service/rendezvous_registry.h"

namespace stoke::api {

// /api/v1/jobs/{id}/kv...: each running elastic job's rendezvous store (RendezvousRegistry) over
// HTTP, for the job's workers (elastic::HttpKvStore is the client; docs/api.md "Elastic rendezvous
// store"). Only the job's own token or an admin token reaches a job's store. One wait request
// blocks at most `max_wait` (clients repeat it for longer timeouts).
std::vector<Route> KvRoutes(service::RendezvousRegistry& registry,
                            std::chrono::milliseconds max_wait = elastic::kv_wire::kMaxWait);

}  // namespace stoke::api
