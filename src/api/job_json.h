#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/job.h"
#include "common/status.h"

namespace stoke::api {

// JSON → JobSpec for POST /api/v1/jobs. Checks types, ranges and unknown fields; pool-dependent
// checks (more GPUs than exist) are the service's.
Result<JobSpec> ParseJobSpec(const nlohmann::json& body);

// Job → the job object of docs/api.md.
nlohmann::json JobToJson(const Job& job);

}  // namespace stoke::api
