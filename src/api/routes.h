#pragma once

#include <vector>

#include "api/http_context.h"
#include "service/auth_service.h"
#include "service/job_runner.h"
#include "service/job_service.h"

namespace stoke::api {

std::vector<Route> JobRoutes(service::JobService& jobs);
std::vector<Route> TokenRoutes(service::AuthService& auth);
std::vector<Route> ClusterRoutes(service::JobRunner& runner);

}  // namespace stoke::api
