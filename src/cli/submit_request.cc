#include "cli/submit_request.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "common/byte_size.h"

namespace stoke::cli {

Result<std::pair<std::string, std::string>> ParseEnvAssignment(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Err(Status::InvalidArgument("--env expects KEY=VALUE, got \"" + std::string(text) + "\""));
  }
  std::string_view key = text.substr(0, eq);
  bool valid = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
  for (char c : key) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!valid) {
    return Err(Status::InvalidArgument("--env name \"" + std::string(key) +
                                       "\" must be letters, digits and '_' and not start with a digit"));
  }
  return std::make_pair(std::string(key), std::string(text.substr(eq + 1)));
}

Result<nlohmann::json> ParseHparams(std::string_view text) {
  std::string json_text(text);
  std::string origin = "--hparams";
  if (text.starts_with('@')) {
    std::string path(text.substr(1));
    std::ifstream in(path);
    if (!in) return Err(Status::InvalidArgument("cannot read the hparams file " + path, "hparams"));
    std::stringstream buf;
    buf << in.rdbuf();
    json_text = buf.str();
    origin = path;
  }
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Err(Status::InvalidArgument(origin + " is not valid JSON", "hparams"));
  if (!doc.is_object()) return Err(Status::InvalidArgument(origin + " must be a JSON object", "hparams"));
  return doc;
}

Result<nlohmann::json> BuildJobSpec(const SubmitOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return Err(Status::InvalidArgument("give the command to run after --, e.g. stoke submit -- python3 train.py",
                                       "argv"));
  }
  nlohmann::json spec = {{"argv", options.argv}};
  STOKE_RETURN_IF_ERROR(AddCommonJobFields(options, spec));
  return spec;
}

Status AddCommonJobFields(const SubmitOptions& options, nlohmann::json& spec) {
  if (!options.name.empty()) spec["name"] = options.name;
  if (!options.env.empty()) {
    nlohmann::json env = nlohmann::json::object();
    for (size_t i = 0; i < options.env.size(); ++i) {
      auto kv = ParseEnvAssignment(options.env[i]);
      if (!kv) return Status(kv.error().code(), kv.error().message(), "env." + std::to_string(i));
      env[kv->first] = kv->second;
    }
    spec["env"] = std::move(env);
  }
  nlohmann::json resources = nlohmann::json::object();
  if (options.gpus) {
    if (*options.gpus < 0) return Status::InvalidArgument("--gpus must be >= 0", "gpus");
    resources["gpus"] = *options.gpus;
  }
  if (options.cpus) {
    if (*options.cpus < 1) return Status::InvalidArgument("--cpus must be >= 1", "cpus");
    resources["cpus"] = *options.cpus;
  }
  if (!options.memory.empty()) {
    auto bytes = ParseByteSize(options.memory);
    if (!bytes) return Status::InvalidArgument(bytes.error().message(), "mem");
    resources["memory"] = *bytes;
  }
  if (!resources.empty()) spec["resources"] = std::move(resources);
  if (options.priority) spec["priority"] = *options.priority;
  if (options.max_runtime_s) {
    if (*options.max_runtime_s < 0) return Status::InvalidArgument("--max-runtime must be >= 0", "max-runtime");
    spec["max_runtime_s"] = *options.max_runtime_s;
  }
  if (!options.working_dir.empty()) spec["working_dir"] = options.working_dir;
  if (!options.hparams.empty()) {
    auto hparams = ParseHparams(options.hparams);
    if (!hparams) return hparams.error();
    spec["hparams"] = std::move(*hparams);
  }
  return Status::Ok();
}

}  // namespace stoke::cli
