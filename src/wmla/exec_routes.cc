// The deep-learning exec routes: /platform/rest/deeplearning/v1/execs...
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/text.h"
#include "api/json_reader.h"
#include "service/job_files.h"
#include "wmla/launcher_script.h"
#include "wmla/routes_internal.h"
#include "wmla/wmla_format.h"

namespace stoke::wmla::internal {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

struct Framework {
  const char* name;
  const char* app_name;
  const char* exec_mode;  // single | distributed
  bool distributed;
  bool elastic;
  const char* backend;
  std::vector<const char*> desc;
};

const std::vector<Framework>& Frameworks() {
  static const auto* list = new std::vector<Framework>{
      {"PyTorch", "PyTorchTrain", "single", false, false, "PyTorch",
       {"Runs --model-main with /usr/bin/python3 in one worker (maxWorkers: 1)."}},
      {"tensorflow", "TensorflowTrain", "single", false, false, "tensorflow",
       {"Runs --model-main with /usr/bin/python3 in one worker (maxWorkers: 1)."}},
      {"distPyTorch", "DistributePyTorchTrain", "distributed", true, false, "PyTorch",
       {"Runs --numWorker ranks of --model-main on this host with MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK set",
        "(torch.distributed env:// rendezvous; Gloo on CPU, NCCL on GPU). The job fails when any rank fails."}},
      {"edtPyTorch", "ElasticPyTorchTrain", "distributed", true, true, "PyTorch",
       {"Runs --model-main like distPyTorch with a fixed worker count (--numWorker or --edt-options",
        "maxWorkers=N). WMLA's Python EDT API (FabricModel) is not provided; Stoke's elastic engine trains",
        "TorchScript models as jobs of type \"elastic\" (stoke train), which grow and shrink while running."}},
  };
  return *list;
}

// What an edtPyTorch exec is told: how it runs here, and where real elastic training is.
std::string EdtWarning() {
  return "edtPyTorch runs like distPyTorch with a fixed number of workers: WMLA's Python EDT API (FabricModel) is "
         "not provided; for elastic training submit a Stoke job of type \"elastic\" (stoke train)";
}

const Framework* FindFramework(const std::string& name) {
  for (const auto& f : Frameworks()) {
    if (strcasecmp(f.name, name.c_str()) == 0) return &f;
  }
  return nullptr;
}

bool SafeRelative(const std::string& p) {
  if (p.empty() || p.front() == '/') return false;
  for (const auto& part : fs::path(p)) {
    if (part == "..") return false;
  }
  return true;
}

Result<json> ParseDataField(const httplib::Request& req) {
  if (!req.has_file("data")) return json(nullptr);
  const std::string& text = req.get_file_value("data").content;
  if (text.empty()) return json(nullptr);
  auto doc = api::ParseJsonText(text);
  if (!doc) return Err(Status::InvalidArgument("data must be JSON: " + doc.error().message(), "data"));
  if (!doc->is_object()) return Err(Status::InvalidArgument("data must be a JSON object", "data"));
  return *doc;
}

std::string Str(const json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// 4.x hardwareSpec {"nodes": {"num_nodes", "mem": {"size"}, "gpu": {"num_gpu"}, "cpu": {"units"}}} onto the args.
Status ApplyHardwareSpec(const json& hw, ExecArgs& args, int& cpus_per_worker) {
  if (hw.is_null()) return Status::Ok();
  const json nodes = hw.is_object() ? hw.value("nodes", json::object()) : json();
  if (!nodes.is_object()) return Status::InvalidArgument("data.hardwareSpec.nodes must be an object", "data.hardwareSpec");
  auto number = [](const json& v) -> std::optional<double> {
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) {
      try {
        return std::stod(v.get<std::string>());
      } catch (const std::exception&) {
      }
    }
    return std::nullopt;
  };
  if (nodes.contains("num_nodes")) {
    auto n = number(nodes["num_nodes"]);
    if (!n || *n < 1 || *n > 1024) return Status::InvalidArgument("num_nodes must be 1..1024", "data.hardwareSpec.nodes.num_nodes");
    args.num_worker = static_cast<int>(*n);
  }
  if (nodes.contains("gpu") && nodes["gpu"].is_object() && nodes["gpu"].contains("num_gpu")) {
    auto g = number(nodes["gpu"]["num_gpu"]);
    if (!g || *g < 0 || *g > 64) return Status::InvalidArgument("num_gpu must be 0..64", "data.hardwareSpec.nodes.gpu.num_gpu");
    args.device_num = static_cast<int>(*g);
    args.device_type = *g > 0 ? "gpu" : "cpu";
  }
  if (nodes.contains("cpu") && nodes["cpu"].is_object() && nodes["cpu"].contains("units")) {
    auto c = number(nodes["cpu"]["units"]);
    if (!c || *c <= 0 || *c > 1024) return Status::InvalidArgument("cpu units must be > 0", "data.hardwareSpec.nodes.cpu.units");
    cpus_per_worker = std::max(1, static_cast<int>(std::ceil(*c)));
  }
  if (nodes.contains("mem") && nodes["mem"].is_object() && nodes["mem"].contains("size")) {
    STOKE_ASSIGN_OR_RETURN(int64_t bytes, api::ParseByteSize(nodes["mem"]["size"], "data.hardwareSpec.nodes.mem.size"));
    args.worker_memory = bytes;
  }
  return Status::Ok();
}

// The data directory from --cs-datastore-meta data_path or data.dataSource[0].location.paths.
Result<std::string> DataDir(const WmlaContext& ctx, const ExecArgs& args, const json& data_source) {
  std::string rel = DatastoreDataPath(args.datastore_meta);
  std::string field = "args.--cs-datastore-meta";
  json sources = data_source;
  if (sources.is_null() && !args.data_source.empty()) {
    auto doc = api::ParseJsonText(args.data_source);
    if (!doc) return Err(Status::InvalidArgument("--data-source must be JSON", "args.--data-source"));
    sources = *doc;
  }
  if (rel.empty() && sources.is_array() && !sources.empty() && sources[0].is_object()) {
    json loc = sources[0].value("location", json::object());
    if (loc.is_object()) {
      json paths = loc.contains("paths") ? loc["paths"] : loc.value("path", json(nullptr));
      if (paths.is_array() && !paths.empty()) paths = paths[0];
      if (paths.is_string()) rel = paths.get<std::string>();
    }
    field = "data.dataSource";
  }
  while (rel.starts_with("/")) rel.erase(0, 1);  // relative to DLI_DATA_FS, as in WMLA
  if (rel.empty()) return ctx.data_fs;
  if (!SafeRelative(rel)) return Err(Status::InvalidArgument("data paths stay inside DLI_DATA_FS (no ..)", field));
  return ctx.data_fs + "/" + rel;
}

json FrameworkJson(const Framework& f) {
  return json{{"name", f.name},
              {"desc", f.desc},
              {"deployMode", "cluster"},
              {"execMode", f.exec_mode},
              {"appName", f.app_name},
              {"exports", json::object()},
              {"numWorkers", 1},
              {"maxWorkers", f.distributed ? 1024 : 1},
              {"workerMemory", "0"},
              {"frameworkCmdGenerator", ""},
              {"backend", f.backend},
              {"frameworkVersion", "stoke"}};
}

std::string EnvOr(const Job& job, const char* key, std::string fallback = "") {
  auto it = job.spec.env.find(key);
  return it == job.spec.env.end() ? fallback : it->second;
}

bool IsWmlaJob(const Job& job) { return job.spec.env.contains("FRAME_WORK"); }

Result<Job> GetExec(const WmlaContext& ctx, const httplib::Request& req, const api::RequestContext& rc) {
  std::string text = req.matches.size() > 1 ? std::string(req.matches[1]) : "";
  auto id = ParseExecId(text);
  if (!id) return Err(Status::NotFound("no exec " + text));
  auto job = ctx.deps.jobs.Get(rc.principal, *id);
  if (!job && job.error().code() == StatusCode::kNotFound) return Err(Status::NotFound("no exec " + text));
  return job;
}

Result<std::vector<Job>> ListWmlaJobs(const WmlaContext& ctx, const service::Principal& who) {
  std::vector<Job> out;
  store::JobFilter filter;
  filter.limit = 500;
  for (int page = 0; page < 40; ++page) {
    STOKE_ASSIGN_OR_RETURN(store::JobPage p, ctx.deps.jobs.List(who, filter));
    for (Job& j : p.jobs) {
      if (IsWmlaJob(j)) out.push_back(std::move(j));
    }
    if (!p.next_before_id) break;
    filter.before_id = *p.next_before_id;
  }
  return out;
}

Status SubmitExec(WmlaContext& ctx, const httplib::Request& req, httplib::Response& res, const api::RequestContext& rc) {
  if (!req.get_header_value("Content-Type").starts_with("multipart/form-data")) {
    return Status::InvalidArgument("POST /execs takes multipart/form-data with a part named file", "Content-Type");
  }
  STOKE_ASSIGN_OR_RETURN(json data, ParseDataField(req));
  // The args come in the query (dlicmd, notebooks), else as a form field, else in the 4.x `data` object.
  std::string raw_args = req.get_param_value("args");
  if (raw_args.empty() && req.has_file("args")) raw_args = req.get_file_value("args").content;
  if (raw_args.empty() && data.is_object()) raw_args = Str(data, "args");
  if (raw_args.empty()) {
    return Status::InvalidArgument("args is required: ?args=--exec-start PyTorch --model-main main.py ...", "args");
  }
  STOKE_ASSIGN_OR_RETURN(ExecArgs args, ParseExecArgs(raw_args));
  STOKE_ASSIGN_OR_RETURN(CodeUpload upload, UploadedFile(req));
  STOKE_ASSIGN_OR_RETURN(StagedCode code, StagedCode::Stage(ctx.tmp_dir, upload, args.model_main));
  json hardware = data.is_object() ? data.value("hardwareSpec", json(nullptr)) : json(nullptr);
  json sources = data.is_object() ? data.value("dataSource", json(nullptr)) : json(nullptr);
  STOKE_ASSIGN_OR_RETURN(ExecPlan plan, PlanExec(ctx, args, code, raw_args, hardware, sources, false));
  STOKE_ASSIGN_OR_RETURN(std::string archive, code.ArchivePath());
  auto job = ctx.deps.jobs.Submit(rc.principal, std::move(plan.spec), archive);
  if (!job) {
    Status s = job.error();
    if (s.field().starts_with("resources")) return Status(s.code(), s.message(), "args");
    return s;
  }
  json out = ExecToJson(*job);
  out["execId"] = out["id"];
  if (!plan.warning.empty()) out["warning"] = plan.warning;
  api::WriteJson(res, 200, out.dump());
  return Status::Ok();
}

Status GetLog(WmlaContext& ctx, const httplib::Request& req, httplib::Response& res, const api::RequestContext& rc) {
  STOKE_ASSIGN_OR_RETURN(Job job, GetExec(ctx, req, rc));
  std::string type = req.has_param("logType") ? req.get_param_value("logType") : "outerrlog";
  if (type != "outlog" && type != "errlog" && type != "outerrlog") {
    return Status::InvalidArgument("logType must be outlog, errlog or outerrlog", "logType");
  }
  STOKE_ASSIGN_OR_RETURN(auto lastlines, api::QueryInt(req, "lastlines", 1, 10000000));
  service::JobFiles files(job.job_dir);
  std::string split = files.LogDir() + (type == "errlog" ? "/wmla-stderr.log" : "/wmla-stdout.log");
  std::string path = files.LogPath();
  std::error_code ec;
  if (type != "outerrlog" && fs::exists(split, ec)) path = split;
  std::string text = type == "errlog" && path == files.LogPath() ? std::string() : files.ReadFrom(path, 0);
  if (lastlines) text = TailLines(text, *lastlines);
  res.status = 200;
  res.set_content(text, "text/plain; charset=utf-8");
  return Status::Ok();
}

Status GetResult(WmlaContext& ctx, const httplib::Request& req, httplib::Response& res, const api::RequestContext& rc) {
  STOKE_ASSIGN_OR_RETURN(Job job, GetExec(ctx, req, rc));
  STOKE_ASSIGN_OR_RETURN(std::string path, ctx.deps.jobs.PackResult(rc.principal, job.id, true));
  api::SendTemporaryFile(res, path, ExecId(job.id) + "-result.zip", "application/zip");
  return Status::Ok();
}

}  // namespace

Result<CodeUpload> UploadedFile(const httplib::Request& req) {
  if (!req.has_file("file")) {
    return Err(Status::InvalidArgument("a part named file is required: a .py script or a *.modelDir.tar", "file"));
  }
  const auto& part = req.get_file_value("file");
  return CodeUpload{part.filename, part.content};
}

Result<ExecPlan> PlanExec(const WmlaContext& ctx, const ExecArgs& in, const StagedCode& code, const std::string& raw_args,
                          const json& hardware, const json& data_source, bool grid_table) {
  ExecArgs args = in;
  if (args.framework.empty()) {
    return Err(Status::InvalidArgument("--exec-start <framework> is required (PyTorch, tensorflow, distPyTorch, edtPyTorch)",
                                       "args.--exec-start"));
  }
  const Framework* fw = FindFramework(args.framework);
  if (fw == nullptr) {
    return Err(Status::InvalidArgument("unknown framework \"" + args.framework +
                                           "\"; this server runs PyTorch, tensorflow, distPyTorch and edtPyTorch",
                                       "args.--exec-start"));
  }
  if (args.user_cmd ? args.user_args.empty() : code.model_main().empty()) {
    return Err(Status::InvalidArgument(args.user_cmd ? "--user-cmd needs the command after --" : "--model-main is required",
                                       args.user_cmd ? "args.--user-cmd" : "args.--model-main"));
  }
  int cpus_per_worker = 1;
  STOKE_RETURN_IF_ERROR(ApplyHardwareSpec(hardware, args, cpus_per_worker));
  ExecPlan plan;
  plan.framework = fw->name;
  plan.num_worker = args.num_worker.value_or(1);
  if (!fw->distributed && plan.num_worker > 1) {
    return Err(Status::InvalidArgument(std::string(fw->name) + " runs one worker; use distPyTorch for " +
                                           std::to_string(plan.num_worker),
                                       "args.--numWorker"));
  }
  bool pool_has_gpus = !ctx.deps.jobs.pool().gpus.empty();
  std::string device = args.device_type.value_or(pool_has_gpus ? "gpu" : "cpu");
  int gpus_per_worker = device == "gpu" ? args.device_num.value_or(1) : 0;
  std::vector<std::string> warnings;
  if (!args.device_type && !pool_has_gpus && args.device_num.value_or(0) > 0) {
    warnings.push_back("this pool has no GPUs: the workers run on CPU (--workerDeviceType gpu would be refused)");
  }
  if (fw->elastic) {
    warnings.push_back(EdtWarning() + " (" + std::to_string(plan.num_worker) + " workers)");
  }
  for (size_t i = 0; i < warnings.size(); ++i) plan.warning += (i ? "; " : "") + warnings[i];

  STOKE_ASSIGN_OR_RETURN(std::string data_dir, DataDir(ctx, args, data_source));
  JobSpec& spec = plan.spec;
  spec.type = JobType::kCommand;
  std::string name = args.app_name;
  if (name.empty()) name = fs::path(code.model_main().empty() ? args.user_args.front() : code.model_main()).stem().string();
  if (name.empty()) name = fw->app_name;
  if (name.size() > 128) name.resize(128);
  spec.name = name;
  spec.resources.cpus = plan.num_worker * cpus_per_worker;
  spec.resources.gpus = plan.num_worker * gpus_per_worker;
  spec.resources.memory_bytes = plan.num_worker * args.worker_memory.value_or(0);
  spec.priority = args.priority.value_or(0);
  spec.argv = {kPython, "-u", std::string(kLauncherPath), "--workers", std::to_string(plan.num_worker), "--code-dir",
               code.code_subdir()};
  if (grid_table) {
    spec.argv.push_back("--grid");
    spec.argv.push_back(std::string(kGridTablePath));
  }
  spec.argv.push_back("--");
  if (!args.user_cmd) {
    spec.argv.push_back(kPython);
    spec.argv.push_back(code.model_main());
  }
  for (const auto& a : args.user_args) spec.argv.push_back(a);
  spec.env = args.env;
  spec.env["FRAME_WORK"] = fw->name;
  spec.env["DLI_IS_ELASTIC"] = fw->elastic ? "true" : "false";
  spec.env["DLI_DATA_FS"] = ctx.data_fs;
  spec.env["DATA_DIR"] = data_dir;
  spec.env["DLI_CS_DATASTORE_META"] = args.datastore_meta;
  spec.env["PYTHONUNBUFFERED"] = "1";
  spec.env["WMLA_APP_NAME"] = args.app_name.empty() ? std::string(fw->app_name) : args.app_name;
  spec.env["WMLA_NUM_WORKER"] = std::to_string(plan.num_worker);
  spec.env["WMLA_CODE_SUBDIR"] = code.code_subdir();
  spec.env["WMLA_ARGS"] = raw_args;
  spec.hparams_json = "{}";
  return plan;
}

json ExecToJson(const Job& job) {
  std::string id = ExecId(job.id);
  std::string framework = EnvOr(job, "FRAME_WORK", "command");
  std::string subdir = EnvOr(job, "WMLA_CODE_SUBDIR", ".");
  std::string work = job.spec.working_dir.empty() ? job.job_dir + "/work" : job.spec.working_dir;
  if (subdir != "." && !subdir.empty()) work += "/" + subdir;
  int workers = 1;
  try {
    workers = std::stoi(EnvOr(job, "WMLA_NUM_WORKER", "1"));
  } catch (const std::exception&) {
  }
  std::string args = EnvOr(job, "WMLA_ARGS");
  if (args.empty()) {
    for (const auto& a : job.spec.argv) args += (args.empty() ? "" : " ") + a;
  }
  json out = {{"appId", id},
              {"appName", EnvOr(job, "WMLA_APP_NAME", job.spec.name)},
              {"args", args},
              {"createTime", WmlaTime(job.created_at)},
              {"creator", job.user},
              {"elastic", EnvOr(job, "DLI_IS_ELASTIC") == "true"},
              {"framework", framework},
              {"id", id},
              {"modelFileOwnerName", job.user},
              {"nameSpace", "stoke"},
              {"numWorker", workers},
              {"schedulerUrl", ""},
              {"state", std::string(ExecStateName(job.state))},
              {"submissionId", id},
              {"workDir", work},
              {"userName", job.user},
              {"executionUserName", job.user},
              {"startTime", WmlaTime(job.started_at)},
              {"endTime", WmlaTime(job.finished_at)},
              {"exitCode", job.exit_code ? json(*job.exit_code) : json(nullptr)},
              {"reason", job.reason},
              {"stokeJobId", job.id}};
  if (framework == "edtPyTorch") {
    out["warning"] = EdtWarning();
  }
  return out;
}

std::vector<api::Route> ExecRoutes(ContextPtr ctx) {
  const std::string base = kDlBase;
  auto wrap = [ctx](Status (*fn)(WmlaContext&, const httplib::Request&, httplib::Response&, const api::RequestContext&)) {
    return [ctx, fn](const httplib::Request& req, httplib::Response& res, const api::RequestContext& rc) {
      return fn(*ctx, req, res, rc);
    };
  };
  std::vector<api::Route> r;
  auto add = [&](std::string method, std::string pattern, std::string path, std::string summary, api::Handler h,
                 std::vector<std::string> params = {}) {
    r.push_back({std::move(method), base + pattern, base + path, "WMLA: " + summary, true, std::move(h),
                 std::move(params), WriteWmlaError});
  };
  add("GET", "/execs/frameworks", "/execs/frameworks", "List framework plugins",
      [](const auto&, auto& res, const auto&) -> Status {
        json out = json::array();
        for (const auto& f : Frameworks()) out.push_back(FrameworkJson(f));
        api::WriteJson(res, 200, out.dump());
        return Status::Ok();
      });
  add("POST", "/execs", "/execs", "Submit an exec: ?args=<dlicmd args>, multipart file (.py or *.modelDir.tar) and data",
      wrap(&SubmitExec), {"args", "sigName"});
  add("GET", "/execs/?", "/execs", "List execs, newest first",
      [ctx](const auto&, auto& res, const auto& rc) -> Status {
        STOKE_ASSIGN_OR_RETURN(auto jobs, ListWmlaJobs(*ctx, rc.principal));
        json out = json::array();
        for (const Job& j : jobs) out.push_back(ExecToJson(j));
        api::WriteJson(res, 200, out.dump());
        return Status::Ok();
      });
  add("DELETE", "/execs/?", "/execs", "Delete every finished exec of the caller",
      [ctx](const auto&, auto& res, const auto& rc) -> Status {
        STOKE_ASSIGN_OR_RETURN(auto jobs, ListWmlaJobs(*ctx, rc.principal));
        json deleted = json::array(), kept = json::array();
        for (const Job& j : jobs) {
          if (j.user == rc.principal.user && IsTerminal(j.state) && ctx->deps.jobs.Delete(rc.principal, j.id).ok()) {
            deleted.push_back(ExecId(j.id));
          } else if (j.user == rc.principal.user) {
            kept.push_back(ExecId(j.id));
          }
        }
        api::WriteJson(res, 200, json{{"deleted", deleted}, {"notDeleted", kept}}.dump());
        return Status::Ok();
      });
  add("GET", "/execs/([^/]+)", "/execs/{execId}", "Get an exec",
      [ctx](const auto& req, auto& res, const auto& rc) -> Status {
        STOKE_ASSIGN_OR_RETURN(Job job, GetExec(*ctx, req, rc));
        api::WriteJson(res, 200, ExecToJson(job).dump());
        return Status::Ok();
      });
  add("DELETE", "/execs/([^/]+)", "/execs/{execId}", "Delete a finished exec and its files",
      [ctx](const auto& req, auto& res, const auto& rc) -> Status {
        STOKE_ASSIGN_OR_RETURN(Job job, GetExec(*ctx, req, rc));
        STOKE_RETURN_IF_ERROR(ctx->deps.jobs.Delete(rc.principal, job.id));
        res.status = 204;
        return Status::Ok();
      });
  add("POST", "/execs/([^/]+)/stop", "/execs/{execId}/stop", "Stop an exec (SIGTERM to every rank, then SIGKILL)",
      [ctx](const auto& req, auto& res, const auto& rc) -> Status {
        STOKE_ASSIGN_OR_RETURN(Job job, GetExec(*ctx, req, rc));
        STOKE_ASSIGN_OR_RETURN(Job killed, ctx->deps.jobs.Kill(rc.principal, job.id, -1));
        res.status = 204;
        return Status::Ok();
      });
  add("GET", "/execs/([^/]+)/log", "/execs/{execId}/log", "Training log: logType=outlog|errlog|outerrlog",
      wrap(&GetLog), {"logType", "lastlines"});
  add("GET", "/execs/([^/]+)/result", "/execs/{execId}/result", "RESULT_DIR as a zip (size= in Content-Disposition)",
      wrap(&GetResult));
  add("GET", "/conf", "/conf", "Service configuration", [](const auto&, auto& res, const auto&) -> Status {
    api::WriteJson(res, 200, json{{"MSD_ENABLED", false}, {"DLI_SHARED_FS", ""}, {"PLATFORM", "stoke"}}.dump());
    return Status::Ok();
  });
  return r;
}

}  // namespace stoke::wmla::internal
