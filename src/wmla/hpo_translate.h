#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

// WMLA HPO task bodies (`POST /hypersearch` form field `data`) → Stoke experiment specs (docs/api.md
// "Experiments"). Pure functions; thread-safe.
namespace stoke::wmla {

// A WMLA HPO task, read leniently (every spelling WMLA versions used is accepted, typos included:
// maxParalleJobNum, discreateStrVal) and checked strictly (wrong types and impossible ranges are
// errors that name the field, e.g. "hyperParams.0.maxDbVal").
struct HpoTask {
  std::string hpo_name;           // "hpoName" (optional)
  std::string model_args;         // modelSpec.args: the dlicmd args of every trial
  std::string algorithm;          // Random | TPE | Bayesian | Hyperband | ExperimentGridSearch
  std::string metric;             // algoDef.objectiveMetric
  bool maximize = false;          // algoDef.objective
  int max_jobs = 0;               // algoDef.maxJobNum (-1 or absent: 100, or the row count for a grid)
  int max_parallel = 1;           // algoDef.maxParalleJobNum (sic)
  int64_t max_run_time_s = 0;     // algoDef.maxRunTime, minutes in WMLA; 0 = none
  uint64_t seed = 0;              // algoParams RandomSeed
  nlohmann::json space;           // Stoke "space"
  nlohmann::json algorithm_spec;  // Stoke "algorithm"
  // ExperimentGridSearch: one object per row, hyperparameter name -> typed value; empty otherwise.
  std::vector<nlohmann::json> grid_rows;
  std::vector<int64_t> grid_ids;  // each row's WMLA "id"
  std::map<std::string, std::string> data_types;  // name -> "int" | "double" | "str" (for display)
  nlohmann::json algo_def;        // as submitted, for GET
  nlohmann::json hyper_params;    // as submitted, with "userDefined": false and a lower-case "type"
};

Result<HpoTask> ParseHpoTask(const nlohmann::json& body);

// The Stoke experiment spec for `task`, named `name`, whose trials run the command job `trial`
// (a docs/api.md job object: argv, resources, env, priority).
nlohmann::json BuildExperimentSpec(const HpoTask& task, const std::string& name, const nlohmann::json& trial);

// The built-in algorithms as `GET /hypersearch/algorithm` lists them.
nlohmann::json BuiltinAlgorithms();

}  // namespace stoke::wmla
