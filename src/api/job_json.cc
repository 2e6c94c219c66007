#include "api/job_json.h"

#include <algorithm>
#include <cmath>
#include <regex>

#include "api/json_reader.h"
#include "api/train_flags.h"

namespace stoke::api {

using nlohmann::json;

namespace {

constexpr int64_t kMaxArgs = 4096;
constexpr int64_t kMaxEnv = 1024;
constexpr int64_t kMaxElasticWorkers = 4096;

bool ValidEnvName(const std::string& name) {
  static const std::regex kEnvName("[A-Za-z_][A-Za-z0-9_]*");
  return std::regex_match(name, kEnvName);
}

Status ParseResources(JsonObjectReader& reader, Resources& out) {
  STOKE_ASSIGN_OR_RETURN(auto gpus, reader.Int("gpus", 0, 1024));
  STOKE_ASSIGN_OR_RETURN(auto cpus, reader.Int("cpus", 1, 4096));
  if (gpus) out.gpus = static_cast<int>(*gpus);
  if (cpus) out.cpus = static_cast<int>(*cpus);
  if (const json* mem = reader.Raw("memory")) {
    STOKE_ASSIGN_OR_RETURN(out.memory_bytes, ParseByteSize(*mem, reader.FieldPath("memory")));
  }
  return reader.Finish();
}

Status ParseEnv(const json& env, std::map<std::string, std::string>& out) {
  if (!env.is_object()) return Status::InvalidArgument("env must be an object of strings, got " + std::string(env.type_name()), "env");
  if (env.size() > static_cast<size_t>(kMaxEnv)) return Status::InvalidArgument("env has too many variables", "env");
  for (const auto& [key, value] : env.items()) {
    std::string field = "env." + key;
    if (!ValidEnvName(key)) return Status::InvalidArgument("env name \"" + key + "\" is not a valid variable name", field);
    if (key.starts_with("STOKE_")) return Status::InvalidArgument("env names starting with STOKE_ are reserved", field);
    if (!value.is_string()) return Status::InvalidArgument(field + " must be a string, got " + std::string(value.type_name()), field);
    const auto& s = value.get_ref<const std::string&>();
    if (s.find('\0') != std::string::npos) return Status::InvalidArgument(field + " must not contain NUL", field);
    if (s.size() > 65536) return Status::InvalidArgument(field + " is too long", field);
    out[key] = s;
  }
  return Status::Ok();
}

// type "elastic": {"workers": {"min", "max", "min_wait_s"}, "train": {...}}; no argv (the
// worker's flags are built from "train").
Status ParseElastic(JsonObjectReader& reader, JobSpec& spec) {
  spec.type = JobType::kElastic;
  if (reader.Raw("argv") != nullptr) {
    return Status::InvalidArgument("argv is not used by elastic jobs: give the training options in \"train\"", "argv");
  }
  STOKE_ASSIGN_OR_RETURN(auto workers, reader.Object("workers"));
  if (workers) {
    STOKE_ASSIGN_OR_RETURN(auto min, workers->Int("min", 1, kMaxElasticWorkers));
    STOKE_ASSIGN_OR_RETURN(auto max, workers->Int("max", 1, kMaxElasticWorkers));
    STOKE_ASSIGN_OR_RETURN(auto wait, workers->Int("min_wait_s", 0, 7 * 24 * 3600));
    STOKE_RETURN_IF_ERROR(workers->Finish());
    spec.elastic.min_workers = static_cast<int>(min.value_or(1));
    spec.elastic.max_workers = static_cast<int>(max.value_or(std::max<int64_t>(spec.elastic.min_workers, 1)));
    if (wait) spec.elastic.min_wait_s = *wait;
    if (spec.elastic.max_workers < spec.elastic.min_workers) {
      return Status::InvalidArgument("workers.max (" + std::to_string(spec.elastic.max_workers) +
                                         ") must be at least workers.min (" + std::to_string(spec.elastic.min_workers) + ")",
                                     "workers.max");
    }
  }
  const json* train = reader.Raw("train");
  if (train == nullptr) return Status::InvalidArgument("train is required for elastic jobs (model, data, ...)", "train");
  STOKE_ASSIGN_OR_RETURN(spec.argv, TrainFlagsFromJson(*train));
  spec.elastic.train_json = train->dump();
  return Status::Ok();
}

}  // namespace

Result<JobSpec> ParseJobSpec(const json& body) {
  STOKE_ASSIGN_OR_RETURN(JsonObjectReader reader, JsonObjectReader::Make(body));
  JobSpec spec;

  STOKE_ASSIGN_OR_RETURN(auto type, reader.String("type", 32));
  if (type && *type != "command" && *type != "elastic") {
    return Err(Status::InvalidArgument("type must be \"command\" or \"elastic\" (got \"" + *type + "\")", "type"));
  }
  if (type && *type == "elastic") {
    STOKE_RETURN_IF_ERROR(ParseElastic(reader, spec));
  } else {
    STOKE_ASSIGN_OR_RETURN(auto argv, reader.StringArray("argv", kMaxArgs));
    if (!argv || argv->empty()) return Err(Status::InvalidArgument("argv is required: the command to run", "argv"));
    if ((*argv)[0].empty()) return Err(Status::InvalidArgument("argv.0 (the program) must not be empty", "argv.0"));
    spec.argv = std::move(*argv);
  }

  STOKE_ASSIGN_OR_RETURN(auto name, reader.String("name", 128));
  if (name) spec.name = *name;
  if (spec.name.empty()) {
    std::string prog = spec.argv[0];
    if (spec.type == JobType::kElastic) {
      auto model = std::find(spec.argv.begin(), spec.argv.end(), "--model");
      prog = model != spec.argv.end() && model + 1 != spec.argv.end() ? *(model + 1) : "model";
    }
    auto slash = prog.find_last_of('/');
    spec.name = slash == std::string::npos ? prog : prog.substr(slash + 1);
    if (spec.type == JobType::kElastic) spec.name = "train-" + spec.name;
    if (spec.name.size() > 128) spec.name.resize(128);
  }
  if (const json* env = reader.Raw("env")) STOKE_RETURN_IF_ERROR(ParseEnv(*env, spec.env));

  STOKE_ASSIGN_OR_RETURN(auto resources, reader.Object("resources"));
  if (resources) STOKE_RETURN_IF_ERROR(ParseResources(*resources, spec.resources));

  STOKE_ASSIGN_OR_RETURN(auto priority, reader.Int("priority", -1000, 1000));
  if (priority) spec.priority = static_cast<int>(*priority);
  STOKE_ASSIGN_OR_RETURN(auto max_runtime, reader.Number("max_runtime_s", 0, 365.0 * 24 * 3600));
  if (max_runtime) spec.max_runtime_s = static_cast<int64_t>(std::ceil(*max_runtime));

  STOKE_ASSIGN_OR_RETURN(auto working_dir, reader.String("working_dir", 4096));
  if (working_dir && !working_dir->empty()) {
    if ((*working_dir)[0] != '/') {
      return Err(Status::InvalidArgument("working_dir must be an absolute path", "working_dir"));
    }
    spec.working_dir = *working_dir;
  }
  spec.hparams_json = "{}";
  if (const json* hp = reader.Raw("hparams")) {
    if (!hp->is_object()) {
      return Err(Status::InvalidArgument("hparams must be an object, got " + std::string(hp->type_name()), "hparams"));
    }
    spec.hparams_json = hp->dump();
  }
  STOKE_RETURN_IF_ERROR(reader.Finish());
  return spec;
}

namespace {
json TimeOrNull(UnixMillis ms) { return ms == 0 ? json(nullptr) : json(FormatRfc3339(ms)); }
}  // namespace

json JobToJson(const Job& job) {
  json hparams = json::object();
  try {
    hparams = json::parse(job.spec.hparams_json.empty() ? "{}" : job.spec.hparams_json);
  } catch (...) {
  }
  json out{
      {"id", job.id},
      {"type", std::string(JobTypeName(job.spec.type))},
      {"name", job.spec.name},
      {"user", job.user},
      {"argv", job.spec.argv},
      {"env", job.spec.env},
      {"resources",
       {{"gpus", job.spec.resources.gpus}, {"cpus", job.spec.resources.cpus}, {"memory", job.spec.resources.memory_bytes}}},
      {"priority", job.spec.priority},
      {"max_runtime_s", job.spec.max_runtime_s},
      {"working_dir", job.spec.working_dir.empty() && !job.job_dir.empty() ? job.job_dir + "/work" : job.spec.working_dir},
      {"hparams", hparams},
      {"state", std::string(JobStateName(job.state))},
      {"exit_code", job.exit_code ? json(*job.exit_code) : json(nullptr)},
      {"reason", job.reason},
      {"created_at", TimeOrNull(job.created_at)},
      {"started_at", TimeOrNull(job.started_at)},
      {"finished_at", TimeOrNull(job.finished_at)},
      {"allocation", {{"cpus", job.allocation.cpus}, {"gpus", job.allocation.gpus}}},
      {"pid", job.pid == 0 ? json(nullptr) : json(job.pid)},
      {"result_dir", job.job_dir.empty() ? std::string() : job.job_dir + "/result"},
      {"log_dir", job.job_dir.empty() ? std::string() : job.job_dir + "/logs"},
  };
  if (job.spec.type == JobType::kElastic) {
    out["workers"] = {{"min", job.spec.elastic.min_workers},
                      {"max", job.spec.elastic.max_workers},
                      {"min_wait_s", job.spec.elastic.min_wait_s}};
    out["train"] = json::parse(job.spec.elastic.train_json, nullptr, /*allow_exceptions=*/false);
    json workers = json::array();
    for (const WorkerProcess& w : job.workers) {
      workers.push_back({{"index", w.index},
                         {"pid", w.pid},
                         {"cpus", w.unit.cpus},
                         {"gpus", w.unit.gpus},
                         {"leaving", w.leaving}});
    }
    out["worker_processes"] = std::move(workers);
  }
  return out;
}

}  // namespace stoke::api
