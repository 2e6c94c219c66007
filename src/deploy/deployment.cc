#include "deploy/deployment.h"

#include <nlohmann/json.hpp>

namespace stoke::deploy {

using nlohmann::json;

Status ValidateDeploymentName(std::string_view name) {
  if (name.empty() || name.size() > 63) return Status::InvalidArgument("name must be 1-63 characters", "name");
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
    if (!ok) {
      return Status::InvalidArgument("name may hold only a-z, 0-9 and '-' (not first): \"" + std::string(name) + "\"",
                                     "name");
    }
  }
  return Status::Ok();
}

Status ValidateSpec(const DeploymentSpec& spec) {
  STOKE_RETURN_IF_ERROR(ValidateDeploymentName(spec.name));
  if (spec.replicas.min < 0 || spec.replicas.min > 64) {
    return Status::InvalidArgument("replicas.min must be 0..64", "replicas.min");
  }
  if (spec.replicas.max < 1 || spec.replicas.max > 64) {
    return Status::InvalidArgument("replicas.max must be 1..64", "replicas.max");
  }
  if (spec.replicas.min > spec.replicas.max) {
    return Status::InvalidArgument("replicas.min must not exceed replicas.max", "replicas.min");
  }
  if (spec.batching.max_batch < 1 || spec.batching.max_batch > 65536) {
    return Status::InvalidArgument("batching.max_batch must be 1..65536", "batching.max_batch");
  }
  if (!(spec.batching.max_delay_ms >= 0 && spec.batching.max_delay_ms <= 10000)) {
    return Status::InvalidArgument("batching.max_delay_ms must be 0..10000", "batching.max_delay_ms");
  }
  if (spec.resources.cpus < 1) return Status::InvalidArgument("resources.cpus must be >= 1", "resources.cpus");
  if (spec.resources.gpus < 0) return Status::InvalidArgument("resources.gpus must be >= 0", "resources.gpus");
  if (spec.input_shape.size() > 8) return Status::InvalidArgument("input_shape has at most 8 dimensions", "input_shape");
  for (int64_t d : spec.input_shape) {
    if (d < 1) return Status::InvalidArgument("input_shape dimensions must be >= 1", "input_shape");
  }
  return Status::Ok();
}

std::string EncodeDeployment(const Deployment& d) {
  json replicas = json::array();
  for (const ReplicaRecord& r : d.replicas) replicas.push_back({{"job", r.job_id}, {"port", r.port}, {"version", r.version}});
  json doc = {
      {"name", d.spec.name},
      {"model", {{"job", d.spec.model.job}, {"path", d.spec.model.path}}},
      {"replicas", {{"min", d.spec.replicas.min}, {"max", d.spec.replicas.max}}},
      {"batching", {{"max_batch", d.spec.batching.max_batch}, {"max_delay_ms", d.spec.batching.max_delay_ms}}},
      {"resources",
       {{"gpus", d.spec.resources.gpus}, {"cpus", d.spec.resources.cpus}, {"memory", d.spec.resources.memory_bytes}}},
      {"input_shape", d.spec.input_shape},
      {"user", d.user},
      {"version", d.version},
      {"model_file", d.model_file},
      {"replica_jobs", replicas},
      {"created_at", d.created_at},
      {"updated_at", d.updated_at},
  };
  return doc.dump();
}

Result<Deployment> DecodeDeployment(std::string_view bytes) {
  json doc = json::parse(bytes, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Err(Status::Internal("stored deployment is not a JSON object"));
  try {
    Deployment d;
    d.spec.name = doc.at("name").get<std::string>();
    d.spec.model.job = doc.at("model").at("job").get<JobId>();
    d.spec.model.path = doc.at("model").at("path").get<std::string>();
    d.spec.replicas.min = doc.at("replicas").at("min").get<int>();
    d.spec.replicas.max = doc.at("replicas").at("max").get<int>();
    d.spec.batching.max_batch = doc.at("batching").at("max_batch").get<int>();
    d.spec.batching.max_delay_ms = doc.at("batching").at("max_delay_ms").get<double>();
    d.spec.resources.gpus = doc.at("resources").at("gpus").get<int>();
    d.spec.resources.cpus = doc.at("resources").at("cpus").get<int>();
    d.spec.resources.memory_bytes = doc.at("resources").at("memory").get<int64_t>();
    d.spec.input_shape = doc.at("input_shape").get<std::vector<int64_t>>();
    d.user = doc.at("user").get<std::string>();
    d.version = doc.at("version").get<int>();
    d.model_file = doc.at("model_file").get<std::string>();
    for (const json& r : doc.at("replica_jobs")) {
      d.replicas.push_back({r.at("job").get<JobId>(), r.at("port").get<int>(), r.at("version").get<int>()});
    }
    d.created_at = doc.at("created_at").get<UnixMillis>();
    d.updated_at = doc.at("updated_at").get<UnixMillis>();
    return d;
  } catch (const json::exception& e) {
    return Err(Status::Internal(std::string("stored deployment is malformed: ") + e.what()));
  }
}

}  // namespace stoke::deploy
