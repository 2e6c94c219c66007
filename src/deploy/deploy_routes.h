#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_context.h"
#include "deploy/deployment_service.h"

namespace stoke::deploy {

// REST routes of deployments (docs: src/deploy/README.md):
//   POST   /api/v1/deployments                  create (JSON, or multipart: spec JSON part + model file part)
//   GET    /api/v1/deployments                  list
//   GET    /api/v1/deployments/{name}           one, with its replicas
//   PATCH  /api/v1/deployments/{name}           new model/batching/resources (rolling) or replicas range
//   DELETE /api/v1/deployments/{name}           stop replicas, forget it
//   POST   /api/v1/deployments/{name}/predict   score: {"instances":[...]} or WML {"input_data":[...]}
// The service must outlive the routes.
std::vector<api::Route> DeploymentRoutes(DeploymentService& deployments);

// Request and answer documents, public for tests. An update has every field optional and no name.
Result<DeploymentUpdate> ParseDeploymentUpdate(const nlohmann::json& body);
Result<DeploymentSpec> ParseDeploymentSpec(const nlohmann::json& body, bool model_uploaded);
nlohmann::json DeploymentToJson(const DeploymentView& view);

}  // namespace stoke::deploy
