#include <sstream>

#include "api/experiment_json.h"
#include "api/experiment_routes.h"
#include "api/json_reader.h"
#include "api/yaml_json.h"

namespace stoke::api {

using nlohmann::json;
using service::ExperimentService;

namespace {

// The spec comes as JSON, YAML (application/yaml, text/yaml), or multipart with `spec` + `code`.
Status CreateExperiment(ExperimentService& svc, const httplib::Request& req, httplib::Response& res,
                        const RequestContext& ctx) {
  std::string type = req.get_header_value("Content-Type");
  auto parse_text = [](const std::string& text, bool yaml) -> Result<json> {
    if (text.size() > (1u << 20)) return Err(Status::ResourceExhausted("spec is larger than 1 MiB", "spec"));
    return yaml ? ParseYamlText(text) : ParseJsonText(text);
  };
  json body;
  std::optional<std::string> code;
  if (type.starts_with("multipart/form-data")) {
    if (!req.has_file("spec")) return Status::InvalidArgument("multipart needs a part named spec", "spec");
    const auto& part = req.get_file_value("spec");
    bool yaml = part.content_type.find("yaml") != std::string::npos || part.filename.ends_with(".yaml") ||
                part.filename.ends_with(".yml");
    STOKE_ASSIGN_OR_RETURN(body, parse_text(part.content, yaml));
    if (req.has_file("code")) {
      code = req.get_file_value("code").content;
      if (code->empty()) return Status::InvalidArgument("the code archive is empty", "code");
    }
  } else if (type.starts_with("application/yaml") || type.starts_with("application/x-yaml") ||
             type.starts_with("text/yaml")) {
    STOKE_ASSIGN_OR_RETURN(body, parse_text(req.body, true));
  } else {
    STOKE_ASSIGN_OR_RETURN(body, JsonBody(req));
  }
  STOKE_ASSIGN_OR_RETURN(service::ExperimentSpec spec, ParseExperimentSpec(body));
  STOKE_ASSIGN_OR_RETURN(service::Experiment e, svc.Create(ctx.principal, std::move(spec), code));
  WriteJson(res, 201, ExperimentToJson(e).dump());
  return Status::Ok();
}

std::string CsvEscape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

Status Export(ExperimentService& svc, const httplib::Request& req, httplib::Response& res, const RequestContext& ctx) {
  STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
  std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (format != "json" && format != "csv") return Status::InvalidArgument("format must be csv or json", "format");
  STOKE_ASSIGN_OR_RETURN(service::Experiment e, svc.Get(ctx.principal, id));
  if (format == "json") {
    json out = ExperimentToJson(e);
    out["trials_detail"] = json::array();
    for (const auto& t : e.trials) out["trials_detail"].push_back(TrialToJson(t));
    WriteJson(res, 200, out.dump());
    return Status::Ok();
  }
  std::vector<std::string> names;
  for (const auto& p : e.spec.config.space.params) names.push_back(p.name);
  std::ostringstream csv;
  csv << "trial,job,state,value,best_value,last_step";
  for (const auto& n : names) csv << "," << CsvEscape(n);
  csv << "\n";
  for (const auto& t : e.trials) {
    csv << t.id << "," << t.job << "," << service::TrialStateName(t.state) << ","
        << (t.value ? json(*t.value).dump() : "") << "," << (t.best_value ? json(*t.best_value).dump() : "") << ","
        << (t.last_step >= 0 ? std::to_string(t.last_step) : "");
    for (const auto& n : names) {
      auto it = t.params.find(n);
      csv << "," << (it == t.params.end() ? "" : CsvEscape(hpo::ParamValueToString(it->second)));
    }
    csv << "\n";
  }
  res.set_header("Content-Disposition", "attachment; filename=experiment-" + std::to_string(id) + ".csv");
  res.status = 200;
  res.set_content(csv.str(), "text/csv");
  return Status::Ok();
}

Status TrialMetrics(ExperimentService& svc, service::JobService& jobs, const httplib::Request& req,
                    httplib::Response& res, const RequestContext& ctx) {
  STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req, 1));
  std::string trial_text = req.matches.size() > 2 ? std::string(req.matches[2]) : "";
  int64_t trial = std::stoll(trial_text.empty() ? "0" : trial_text);
  STOKE_ASSIGN_OR_RETURN(auto job_ids, svc.TrialJobs(ctx.principal, id, trial));
  STOKE_ASSIGN_OR_RETURN(auto points, QueryInt(req, "points", 2, 100000));
  std::vector<std::string> names;
  if (req.has_param("name")) names.push_back(req.get_param_value("name"));
  // A trial's curve spans its attempts; later attempts win on repeated steps.
  std::map<std::string, std::map<int64_t, double>> merged;
  std::map<std::string, int64_t> counts;
  service::Principal owner = ctx.principal;
  owner.admin = true;
  for (JobId job : job_ids) {
    auto series = jobs.QueryMetrics(owner, job, names, std::nullopt, std::nullopt, static_cast<int>(points.value_or(1000)));
    if (!series) continue;
    for (const auto& s : *series) {
      counts[s.name] += s.count;
      for (const auto& [step, value] : s.points) merged[s.name][step] = value;
    }
  }
  json out = {{"series", json::array()}};
  for (const auto& [name, pts] : merged) {
    json arr = json::array();
    for (const auto& [step, value] : pts) arr.push_back({step, value});
    out["series"].push_back({{"name", name}, {"count", counts[name]}, {"points", arr}});
  }
  WriteJson(res, 200, out.dump());
  return Status::Ok();
}

}  // namespace

std::vector<Route> ExperimentRoutes(ExperimentService& svc, service::JobService& jobs) {
  std::vector<Route> r;
  r.push_back({"POST", "/api/v1/experiments", "/api/v1/experiments",
               "Create a hyperparameter-search experiment (JSON, YAML, or multipart spec + code)", true,
               [&svc](const auto& req, auto& res, const auto& ctx) { return CreateExperiment(svc, req, res, ctx); }});
  r.push_back({"GET", "/api/v1/experiments", "/api/v1/experiments", "List experiments, newest first", true,
               [&svc](const auto& req, auto& res, const auto& ctx) -> Status {
                 std::optional<service::ExperimentState> state;
                 if (req.has_param("state")) {
                   state = service::ParseExperimentState(req.get_param_value("state"));
                   if (!state) return Status::InvalidArgument("unknown state", "state");
                 }
                 STOKE_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 500));
                 STOKE_ASSIGN_OR_RETURN(auto cursor, QueryInt(req, "cursor", 1, INT64_MAX));
                 STOKE_ASSIGN_OR_RETURN(auto all, svc.List(ctx.principal));
                 json out = {{"experiments", json::array()}, {"next_cursor", nullptr}};
                 int64_t n = 0, max = limit.value_or(50);
                 for (const auto& e : all) {
                   if (cursor && e.id >= *cursor) continue;
                   if (state && e.state != *state) continue;
                   if (n == max) {
                     out["next_cursor"] = std::to_string(out["experiments"].back()["id"].get<int64_t>());
                     break;
                   }
                   out["experiments"].push_back(ExperimentToJson(e));
                   ++n;
                 }
                 WriteJson(res, 200, out.dump());
                 return Status::Ok();
               },
               {"state", "limit", "cursor"}});
  r.push_back({"GET", R"(/api/v1/experiments/(\d+))", "/api/v1/experiments/{id}", "Get an experiment", true,
               [&svc](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                 STOKE_ASSIGN_OR_RETURN(auto e, svc.Get(ctx.principal, id));
                 WriteJson(res, 200, ExperimentToJson(e).dump());
                 return Status::Ok();
               }});
  r.push_back({"DELETE", R"(/api/v1/experiments/(\d+))", "/api/v1/experiments/{id}",
               "Delete an experiment that is not running", true,
               [&svc](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                 STOKE_RETURN_IF_ERROR(svc.Delete(ctx.principal, id));
                 res.status = 204;
                 return Status::Ok();
               }});
  r.push_back({"POST", R"(/api/v1/experiments/(\d+)/stop)", "/api/v1/experiments/{id}/stop",
               "Stop an experiment and its running trials", true,
               [&svc](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                 STOKE_ASSIGN_OR_RETURN(auto e, svc.StopExperiment(ctx.principal, id));
                 WriteJson(res, 202, ExperimentToJson(e).dump());
                 return Status::Ok();
               }});
  r.push_back({"POST", R"(/api/v1/experiments/(\d+)/resume)", "/api/v1/experiments/{id}/resume",
               "Resume a stopped experiment", true,
               [&svc](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                 STOKE_ASSIGN_OR_RETURN(auto e, svc.Resume(ctx.principal, id));
                 WriteJson(res, 202, ExperimentToJson(e).dump());
                 return Status::Ok();
               }});
  r.push_back({"GET", R"(/api/v1/experiments/(\d+)/trials)", "/api/v1/experiments/{id}/trials",
               "Every trial with its params, state and values", true,
               [&svc](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                 STOKE_ASSIGN_OR_RETURN(auto e, svc.Get(ctx.principal, id));
                 json out = {{"trials", json::array()}};
                 for (const auto& t : e.trials) out["trials"].push_back(TrialToJson(t));
                 WriteJson(res, 200, out.dump());
                 return Status::Ok();
               }});
  r.push_back({"GET", R"(/api/v1/experiments/(\d+)/best)", "/api/v1/experiments/{id}/best", "The best trial so far",
               true, [&svc](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                 STOKE_ASSIGN_OR_RETURN(auto e, svc.Get(ctx.principal, id));
                 const service::Trial* best = e.Best();
                 if (best == nullptr) return Status::NotFound("no trial has reported " + e.spec.metric + " yet");
                 WriteJson(res, 200, TrialToJson(*best).dump());
                 return Status::Ok();
               }});
  r.push_back({"GET", R"(/api/v1/experiments/(\d+)/trials/(\d+)/metrics)", "/api/v1/experiments/{id}/trials/{trial}/metrics",
               "A trial's metric curves across its attempts", true,
               [&svc, &jobs](const auto& req, auto& res, const auto& ctx) { return TrialMetrics(svc, jobs, req, res, ctx); },
               {"name", "points"}});
  r.push_back({"GET", R"(/api/v1/experiments/(\d+)/export)", "/api/v1/experiments/{id}/export",
               "Every trial with params and values, as csv or json", true,
               [&svc](const auto& req, auto& res, const auto& ctx) { return Export(svc, req, res, ctx); }, {"format"}});
  return r;
}

}  // namespace stoke::api
