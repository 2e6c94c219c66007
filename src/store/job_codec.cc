#include "store/job_codec.h"

#include <nlohmann/json.hpp>

namespace stoke::store {
namespace {
using nlohmann::json;

JobType ParseJobType(const std::string& name) { return name == "elastic" ? JobType::kElastic : JobType::kCommand; }
}  // namespace

std::string EncodeSpec(const JobSpec& spec) {
  json j = {
      {"type", std::string(JobTypeName(spec.type))},
      {"name", spec.name},
      {"argv", spec.argv},
      {"env", spec.env},
      {"resources",
       {{"gpus", spec.resources.gpus}, {"cpus", spec.resources.cpus}, {"memory_bytes", spec.resources.memory_bytes}}},
      {"priority", spec.priority},
      {"max_runtime_s", spec.max_runtime_s},
      {"working_dir", spec.working_dir},
      {"hparams_json", spec.hparams_json},
      {"has_code_archive", spec.has_code_archive},
  };
  if (spec.type == JobType::kElastic) {
    j["elastic"] = {{"min_workers", spec.elastic.min_workers},
                    {"max_workers", spec.elastic.max_workers},
                    {"min_wait_s", spec.elastic.min_wait_s},
                    {"train_json", spec.elastic.train_json}};
  }
  // `replace`: invalid UTF-8 in user strings must not make the write throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<JobSpec> DecodeSpec(const std::string& text) {
  try {
    json j = json::parse(text);
    JobSpec spec;
    spec.type = ParseJobType(j.value("type", std::string("command")));
    spec.name = j.value("name", std::string());
    spec.argv = j.value("argv", std::vector<std::string>{});
    spec.env = j.value("env", std::map<std::string, std::string>{});
    if (j.contains("resources")) {
      const json& r = j["resources"];
      spec.resources.gpus = r.value("gpus", 0);
      spec.resources.cpus = r.value("cpus", 1);
      spec.resources.memory_bytes = r.value("memory_bytes", int64_t{0});
    }
    spec.priority = j.value("priority", 0);
    spec.max_runtime_s = j.value("max_runtime_s", int64_t{0});
    spec.working_dir = j.value("working_dir", std::string());
    spec.hparams_json = j.value("hparams_json", std::string("{}"));
    spec.has_code_archive = j.value("has_code_archive", false);
    if (j.contains("elastic")) {
      const json& e = j["elastic"];
      spec.elastic.min_workers = e.value("min_workers", 1);
      spec.elastic.max_workers = e.value("max_workers", 1);
      spec.elastic.min_wait_s = e.value("min_wait_s", int64_t{120});
      spec.elastic.train_json = e.value("train_json", std::string("{}"));
    }
    return spec;
  } catch (const json::exception& e) {
    return Err(Status::Internal(std::string("corrupt job spec in store: ") + e.what()));
  }
}

std::string EncodeAllocation(const Allocation& allocation) {
  return json{{"cpus", allocation.cpus}, {"gpus", allocation.gpus}}.dump();
}

Result<Allocation> DecodeAllocation(const std::string& text) {
  try {
    json j = json::parse(text);
    Allocation a;
    a.cpus = j.value("cpus", std::vector<int>{});
    a.gpus = j.value("gpus", std::vector<int>{});
    return a;
  } catch (const json::exception& e) {
    return Err(Status::Internal(std::string("corrupt job allocation in store: ") + e.what()));
  }
}

}  // namespace stoke::store
