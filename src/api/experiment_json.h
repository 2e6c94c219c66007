#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "service/experiment.h"

namespace stoke::api {

// JSON experiment spec (docs/api.md "Experiments") → ExperimentSpec, with every error naming its
// field ("space.lr.min", "algorithm.name", "trial.argv.3").
Result<service::ExperimentSpec> ParseExperimentSpec(const nlohmann::json& body);
// Same, from the stored normalized text.
Result<service::ExperimentSpec> ParseExperimentSpecText(std::string_view json_text);

nlohmann::json ExperimentToJson(const service::Experiment& e);
nlohmann::json TrialToJson(const service::Trial& t);
nlohmann::json ParamsToJson(const hpo::ParamSample& params);

}  // namespace stoke::api
