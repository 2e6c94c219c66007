// The HPO routes: /platform/rest/deeplearning/v1/hypersearch...
#include <openssl/rand.h>

#include <algorithm>

#include "api/experiment_json.h"
#include "api/job_json.h"
#include "api/json_reader.h"
#include "wmla/hpo_translate.h"
#include "wmla/launcher_script.h"
#include "wmla/routes_internal.h"
#include "wmla/wmla_format.h"

namespace stoke::wmla::internal {

using nlohmann::json;

namespace {

std::string RandomDigits(int n) {
  std::string out;
  unsigned char b[32];
  RAND_bytes(b, sizeof(b));
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>('0' + b[i % 32] % 10));
  return out;
}

// The stored record of a WMLA task: its Stoke experiment and what GET shows back.
struct HpoRecord {
  std::string name;
  json doc;  // {"experiment", "creator", "algoDef", "hyperParams", "dataTypes", "gridRows", "gridIds"}
  service::ExperimentId experiment() const { return doc.value("experiment", int64_t{0}); }
};

Result<HpoRecord> FindTask(WmlaContext& ctx, const std::string& name) {
  STOKE_ASSIGN_OR_RETURN(auto text, ctx.deps.store.Get(kHpoNamespace, name));
  if (!text) return Err(Status::NotFound("no HPO task " + name));
  try {
    return HpoRecord{name, json::parse(*text)};
  } catch (const std::exception&) {
    return Err(Status::Internal("the record of HPO task " + name + " is corrupt"));
  }
}

// The task if the caller may see it (its experiment is visible to them).
Result<std::pair<HpoRecord, service::Experiment>> VisibleTask(WmlaContext& ctx, const httplib::Request& req,
                                                              const api::RequestContext& rc) {
  std::string name = req.matches.size() > 1 ? std::string(req.matches[1]) : "";
  STOKE_ASSIGN_OR_RETURN(HpoRecord rec, FindTask(ctx, name));
  auto e = ctx.deps.experiments.Get(rc.principal, rec.experiment());
  if (!e) {
    if (e.error().code() == StatusCode::kNotFound) return Err(Status::NotFound("no HPO task " + name));
    return Err(e.error());
  }
  return std::make_pair(std::move(rec), std::move(*e));
}

std::string FixedText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

json TrialHyperParams(const HpoRecord& rec, const service::Trial& t) {
  json params = api::ParamsToJson(t.params);
  json types = rec.doc.value("dataTypes", json::object());
  if (params.contains(std::string(kGridIndexParam))) {
    json rows = rec.doc.value("gridRows", json::array());
    size_t i = params[std::string(kGridIndexParam)].get<size_t>();
    params = i < rows.size() ? rows[i] : json::object();
  }
  // Hyperband's resource is set per trial by the algorithm (and is in the trial's config.json).
  std::string resource = rec.doc.value("resource", "");
  if (!resource.empty() && t.max_resource > 0) params[resource] = t.max_resource;
  json out = json::array();
  for (const auto& [name, v] : params.items()) {
    std::string type = types.value(name, v.is_number_integer() ? "int" : v.is_number() ? "double" : "str");
    out.push_back({{"name", name}, {"dataType", type}, {"fixedVal", FixedText(v)}, {"userDefined", false}});
  }
  return out;
}

json ExperimentRow(WmlaContext& ctx, const api::RequestContext& rc, const HpoRecord& rec, const service::Trial& t) {
  int64_t id = t.id;
  json grid_ids = rec.doc.value("gridIds", json::array());
  if (!grid_ids.empty()) {
    json params = api::ParamsToJson(t.params);
    if (params.contains(std::string(kGridIndexParam))) {
      size_t i = params[std::string(kGridIndexParam)].get<size_t>();
      if (i < grid_ids.size()) id = grid_ids[i].get<int64_t>();
    }
  }
  std::string state(TrialExecStateName(t.state));
  std::string start, end;
  if (t.job != 0) {
    if (auto job = ctx.deps.jobs.Get(rc.principal, t.job)) {
      // A pruned trial's job is KILLED; a finished trial whose job state is newer wins.
      state = std::string(ExecStateName(job->state));
      start = WmlaTime(job->started_at);
      end = WmlaTime(job->finished_at);
    }
  }
  return json{{"id", id},
              {"appId", t.job != 0 ? json(ExecId(t.job)) : json("")},
              {"driverId", t.job != 0 ? json(ExecId(t.job)) : json("")},
              {"state", state},
              {"metricVal", t.value ? json(*t.value) : json(nullptr)},
              {"maxiteration", t.max_resource},
              {"startTime", start},
              {"endTime", end},
              {"hyperParams", TrialHyperParams(rec, t)}};
}

json TaskToJson(WmlaContext& ctx, const api::RequestContext& rc, const HpoRecord& rec, const service::Experiment& e) {
  int running = 0, complete = 0, failed = 0;
  json rows = json::array();
  const service::Trial* best = nullptr;
  for (const auto& t : e.trials) {
    if (t.state == service::TrialState::kRunning || t.state == service::TrialState::kPending) ++running;
    if (t.state == service::TrialState::kCompleted || t.state == service::TrialState::kPruned) ++complete;
    if (t.state == service::TrialState::kFailed) ++failed;
    rows.push_back(ExperimentRow(ctx, rc, rec, t));
    if (t.value && (best == nullptr || (e.spec.maximize ? *t.value > *best->value : *t.value < *best->value))) best = &t;
  }
  UnixMillis end = e.finished_at != 0 ? e.finished_at : ctx.clock.NowMillis();
  int max_jobs = e.spec.config.budget.max_trials;
  json out = {{"hpoName", rec.name},
              {"state", std::string(HpoStateName(e))},
              {"progress", std::to_string(complete + failed) + "/" + std::to_string(max_jobs)},
              {"running", running},
              {"complete", complete},
              {"failed", failed},
              {"createtime", WmlaTime(e.created_at)},
              {"creator", e.user},
              {"duration", Duration(end - e.created_at)},
              {"algoDef", rec.doc.value("algoDef", json::object())},
              {"hyperParams", rec.doc.value("hyperParams", json::array())},
              {"experiments", rows},
              {"best", best != nullptr ? ExperimentRow(ctx, rc, rec, *best) : json::object()},
              {"reason", e.reason},
              {"stokeExperimentId", e.id}};
  if (rec.doc.contains("experimentsSpec")) out["experimentsSpec"] = rec.doc["experimentsSpec"];
  return out;
}

Status CreateTask(WmlaContext& ctx, const httplib::Request& req, httplib::Response& res, const api::RequestContext& rc) {
  if (!req.get_header_value("Content-Type").starts_with("multipart/form-data")) {
    return Status::InvalidArgument("POST /hypersearch takes multipart/form-data with parts file and data", "Content-Type");
  }
  if (!req.has_file("data")) return Status::InvalidArgument("a part named data (the HPO task JSON) is required", "data");
  auto body = api::ParseJsonText(req.get_file_value("data").content);
  if (!body) return Status::InvalidArgument("data must be JSON: " + body.error().message(), "data");
  STOKE_ASSIGN_OR_RETURN(HpoTask task, ParseHpoTask(*body));
  STOKE_ASSIGN_OR_RETURN(ExecArgs args, ParseExecArgs(task.model_args));
  STOKE_ASSIGN_OR_RETURN(CodeUpload upload, UploadedFile(req));
  std::map<std::string, std::string> extra;
  bool grid = !task.grid_rows.empty();
  if (grid) extra[std::string(kGridTablePath)] = json(task.grid_rows).dump();
  auto staged = StagedCode::Stage(ctx.tmp_dir, upload, args.model_main, extra);
  if (!staged) {
    Status s = staged.error();
    if (s.field().starts_with("args")) return Status(s.code(), s.message(), "modelSpec." + s.field());
    return s;
  }
  auto plan = PlanExec(ctx, args, *staged, task.model_args, json(nullptr), json(nullptr), grid);
  if (!plan) {
    Status s = plan.error();
    return Status(s.code(), s.message(), s.field().starts_with("args") ? "modelSpec." + s.field() : s.field());
  }
  std::string name = task.hpo_name.empty() ? rc.principal.user + "-hpo-" + RandomDigits(16) : task.hpo_name;
  std::lock_guard names_lock(ctx.hpo_names);
  STOKE_ASSIGN_OR_RETURN(auto taken, ctx.deps.store.Get(kHpoNamespace, name));
  if (taken) return Status::AlreadyExists("an HPO task named " + name + " exists");

  Job templ;
  templ.spec = plan->spec;
  json trial = api::JobToJson(templ);
  json trial_spec = {{"argv", trial["argv"]}, {"env", trial["env"]}, {"resources", trial["resources"]},
                     {"priority", trial["priority"]}};
  json spec_json = BuildExperimentSpec(task, name, trial_spec);
  auto spec = api::ParseExperimentSpec(spec_json);
  if (!spec) {
    Status s = spec.error();
    return Status(s.code(), "cannot run this task: " + s.message(), "");
  }
  STOKE_ASSIGN_OR_RETURN(std::string code, staged->ArchiveBytes());
  STOKE_ASSIGN_OR_RETURN(service::Experiment e, ctx.deps.experiments.Create(rc.principal, std::move(*spec), code));
  json doc = {{"experiment", e.id},
              {"creator", rc.principal.user},
              {"algoDef", task.algo_def},
              {"hyperParams", task.hyper_params},
              {"dataTypes", task.data_types},
              {"resource", task.algorithm_spec.value("resource", "")}};
  if (grid) {
    doc["gridRows"] = task.grid_rows;
    doc["gridIds"] = task.grid_ids;
    doc["experimentsSpec"] = body->value("experiments", json::array());
  }
  STOKE_RETURN_IF_ERROR(ctx.deps.store.Put(kHpoNamespace, name, doc.dump()));
  json out = {{"uid", name}, {"href", std::string(kDlBase) + "/hypersearch/" + name}, {"stokeExperimentId", e.id}};
  if (!plan->warning.empty()) out["warning"] = plan->warning;
  api::WriteJson(res, 200, out.dump());
  return Status::Ok();
}

// Stops a running task; `already` makes a finished task an error (WMLA: 400 "is already stopped").
Status StopTask(WmlaContext& ctx, const service::Principal& who, const HpoRecord& rec, const service::Experiment& e,
                bool already_is_error) {
  if (e.state != service::ExperimentState::kRunning) {
    if (already_is_error) return Status::InvalidArgument("HPO task " + rec.name + " is already stopped", "hpoName");
    return Status::Ok();
  }
  auto stopped = ctx.deps.experiments.StopExperiment(who, e.id);
  return stopped ? Status::Ok() : stopped.error();
}

Status DeleteTask(WmlaContext& ctx, const api::RequestContext& rc, const HpoRecord& rec, const service::Experiment& e) {
  STOKE_RETURN_IF_ERROR(StopTask(ctx, rc.principal, rec, e, false));
  // The child execs stay (as in WMLA); the experiment record and the task name go.
  STOKE_RETURN_IF_ERROR(ctx.deps.experiments.Delete(rc.principal, e.id));
  return ctx.deps.store.Erase(kHpoNamespace, rec.name);
}

}  // namespace

std::vector<api::Route> HpoRoutes(ContextPtr ctx) {
  const std::string base = kDlBase;
  std::vector<api::Route> r;
  auto add = [&](std::string method, std::string pattern, std::string path, std::string summary, api::Handler h,
                 std::vector<std::string> params = {}) {
    r.push_back({std::move(method), base + pattern, base + path, "WMLA: " + summary, true, std::move(h),
                 std::move(params), WriteWmlaError});
  };
  add("GET", "/hypersearch/algorithm/?", "/hypersearch/algorithm", "Built-in search algorithms",
      [](const auto& req, auto& res, const auto&) -> Status {
        std::string type = req.get_param_value("type");
        json out = type.empty() || type == "BUILD_IN" ? BuiltinAlgorithms() : json::array();
        api::WriteJson(res, 200, out.dump());
        return Status::Ok();
      },
      {"type"});
  add("GET", "/hypersearch/algorithm/([^/]+)", "/hypersearch/algorithm/{name}", "One built-in search algorithm",
      [](const auto& req, auto& res, const auto&) -> Status {
        std::string name = req.matches[1];
        for (const json& a : BuiltinAlgorithms()) {
          if (a["name"] == name) {
            api::WriteJson(res, 200, a.dump());
            return Status::Ok();
          }
        }
        return Status::NotFound("no algorithm " + name + " (plugin algorithms are not supported)");
      });
  add("POST", "/hypersearch/?", "/hypersearch", "Start an HPO task: multipart file + data (the task JSON)",
      [ctx](const auto& req, auto& res, const auto& rc) { return CreateTask(*ctx, req, res, rc); });
  add("GET", "/hypersearch/?", "/hypersearch", "List HPO tasks",
      [ctx](const auto&, auto& res, const auto& rc) -> Status {
        STOKE_ASSIGN_OR_RETURN(auto rows, ctx->deps.store.List(kHpoNamespace));
        json out = json::array();
        for (const auto& [name, text] : rows) {
          json doc = json::parse(text, nullptr, false);
          if (doc.is_discarded()) continue;
          HpoRecord rec{name, doc};
          auto e = ctx->deps.experiments.Get(rc.principal, rec.experiment());
          if (e) out.push_back(TaskToJson(*ctx, rc, rec, *e));
        }
        api::WriteJson(res, 200, out.dump());
        return Status::Ok();
      });
  add("DELETE", "/hypersearch/?", "/hypersearch", "Delete every HPO task of the caller (their execs stay)",
      [ctx](const auto&, auto& res, const auto& rc) -> Status {
        STOKE_ASSIGN_OR_RETURN(auto rows, ctx->deps.store.List(kHpoNamespace));
        json deleted = json::array();
        for (const auto& [name, text] : rows) {
          json doc = json::parse(text, nullptr, false);
          if (doc.is_discarded()) continue;
          HpoRecord rec{name, doc};
          auto e = ctx->deps.experiments.Get(rc.principal, rec.experiment());
          if (e && e->user == rc.principal.user && DeleteTask(*ctx, rc, rec, *e).ok()) deleted.push_back(name);
        }
        api::WriteJson(res, 200, json{{"deleted", deleted}}.dump());
        return Status::Ok();
      });
  add("GET", "/hypersearch/([^/]+)", "/hypersearch/{hpoName}", "One HPO task with its experiments and best",
      [ctx](const auto& req, auto& res, const auto& rc) -> Status {
        STOKE_ASSIGN_OR_RETURN(auto task, VisibleTask(*ctx, req, rc));
        api::WriteJson(res, 200, TaskToJson(*ctx, rc, task.first, task.second).dump());
        return Status::Ok();
      });
  add("PUT", "/hypersearch/([^/]+)", "/hypersearch/{hpoName}", "Stop an HPO task (400 when already stopped)",
      [ctx](const auto& req, auto& res, const auto& rc) -> Status {
        STOKE_ASSIGN_OR_RETURN(auto task, VisibleTask(*ctx, req, rc));
        STOKE_RETURN_IF_ERROR(StopTask(*ctx, rc.principal, task.first, task.second, true));
        api::WriteJson(res, 200, json{{"hpoName", task.first.name}, {"state", "STOPPED"}}.dump());
        return Status::Ok();
      });
  add("PUT", "/hypersearch/([^/]+)/force", "/hypersearch/{hpoName}/force", "Stop an HPO task and kill its running execs",
      [ctx](const auto& req, auto& res, const auto& rc) -> Status {
        STOKE_ASSIGN_OR_RETURN(auto task, VisibleTask(*ctx, req, rc));
        STOKE_RETURN_IF_ERROR(StopTask(*ctx, rc.principal, task.first, task.second, false));
        api::WriteJson(res, 200, json{{"hpoName", task.first.name}, {"state", "STOPPED"}}.dump());
        return Status::Ok();
      });
  add("PUT", "/hypersearch/([^/]+)/restart", "/hypersearch/{hpoName}/restart", "Restart a stopped HPO task",
      [ctx](const auto& req, auto& res, const auto& rc) -> Status {
        STOKE_ASSIGN_OR_RETURN(auto task, VisibleTask(*ctx, req, rc));
        STOKE_ASSIGN_OR_RETURN(auto e, ctx->deps.experiments.Resume(rc.principal, task.second.id));
        api::WriteJson(res, 200, TaskToJson(*ctx, rc, task.first, e).dump());
        return Status::Ok();
      });
  add("DELETE", "/hypersearch/([^/]+)", "/hypersearch/{hpoName}", "Delete an HPO task (stopping it first; execs stay)",
      [ctx](const auto& req, auto& res, const auto& rc) -> Status {
        STOKE_ASSIGN_OR_RETURN(auto task, VisibleTask(*ctx, req, rc));
        STOKE_RETURN_IF_ERROR(DeleteTask(*ctx, rc, task.first, task.second));
        res.status = 204;
        return Status::Ok();
      });
  return r;
}

}  // namespace stoke::wmla::internal
