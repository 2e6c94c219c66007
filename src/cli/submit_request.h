#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace stoke::cli {

// What `stoke submit` was given on its command line, before any checking.
struct SubmitOptions {
  std::optional<int> gpus;
  std::optional<int> cpus;
  std::string memory;            // "4G", "512M", bytes; empty = not given
  std::optional<int> priority;
  std::string name;
  std::vector<std::string> env;  // "K=V" each
  std::string code_dir;          // --dir: packed and uploaded
  std::string working_dir;       // --workdir: a server-side directory
  std::optional<int64_t> max_runtime_s;
  std::string hparams;           // JSON object text, or "@path" of a file holding it
  bool wait = false;
  std::vector<std::string> argv;  // everything after `--`
};

// Splits "KEY=VALUE" (VALUE may be empty and may contain '='); KEY must match [A-Za-z_][A-Za-z0-9_]*.
Result<std::pair<std::string, std::string>> ParseEnvAssignment(std::string_view text);

// Reads --hparams: inline JSON, or "@file" naming a JSON file. Must be an object.
Result<nlohmann::json> ParseHparams(std::string_view text);

// Builds the JSON job spec of POST /api/v1/jobs from the options; errors name the flag in `field`
// (e.g. "mem", "env.1", "hparams"). Only given fields are sent, so the server's defaults apply.
Result<nlohmann::json> BuildJobSpec(const SubmitOptions& options);

// Adds what every job spec may carry (name, env, resources, priority, max runtime, working dir,
// hparams) from `options` to `spec`; argv is left to the caller.
Status AddCommonJobFields(const SubmitOptions& options, nlohmann::json& spec);

}  // namespace stoke::cli
