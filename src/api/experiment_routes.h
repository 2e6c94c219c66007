#pragma once

#include <vector>

#include "api/http_context.h"
#include "service/experiment_service.h"
#include "service/job_service.h"

namespace stoke::api {

std::vector<Route> ExperimentRoutes(service::ExperimentService& experiments, service::JobService& jobs);

}  // namespace stoke::api
