#include "api/experiment_json.h"

#include <cmath>
#include <regex>
#include <set>

#include "api/job_json.h"
#include "api/json_reader.h"

namespace stoke::api {

using nlohmann::json;
using service::ExperimentSpec;

namespace {

Result<hpo::ParamValue> ChoiceValue(const json& v, const std::string& field) {
  if (v.is_number_integer()) return hpo::ParamValue(v.get<int64_t>());
  if (v.is_number()) return hpo::ParamValue(v.get<double>());
  if (v.is_string()) return hpo::ParamValue(v.get<std::string>());
  if (v.is_boolean()) return hpo::ParamValue(std::string(v.get<bool>() ? "true" : "false"));
  return Err(Status::InvalidArgument(field + " must be a number or a string", field));
}

Result<hpo::ParamSpec> ParseParam(const std::string& name, const json& body, const std::string& path) {
  STOKE_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Make(body, path));
  STOKE_ASSIGN_OR_RETURN(auto type, r.String("type", 32));
  if (!type) return Err(Status::InvalidArgument(path + ".type is required (float, int, categorical, fixed)", path + ".type"));
  hpo::ParamSpec spec;
  if (*type == "float" || *type == "int") {
    STOKE_ASSIGN_OR_RETURN(auto low, r.Number("min", -1e300, 1e300));
    STOKE_ASSIGN_OR_RETURN(auto high, r.Number("max", -1e300, 1e300));
    STOKE_ASSIGN_OR_RETURN(auto log, r.Bool("log"));
    STOKE_ASSIGN_OR_RETURN(auto step, r.Number("step", -1e300, 1e300));
    STOKE_ASSIGN_OR_RETURN(auto grid_points, r.Int("grid_points", 2, 100000));
    if (!low) return Err(Status::InvalidArgument(path + ".min is required", path + ".min"));
    if (!high) return Err(Status::InvalidArgument(path + ".max is required", path + ".max"));
    if (*low > *high) return Err(Status::InvalidArgument(path + ".min must be <= max", path + ".min"));
    bool is_log = log.value_or(false);
    if (is_log && *low <= 0) {
      return Err(Status::InvalidArgument(path + ".min must be > 0 on a log scale", path + ".min"));
    }
    if (step && *step <= 0) return Err(Status::InvalidArgument(path + ".step must be > 0", path + ".step"));
    hpo::Scale scale = is_log ? hpo::Scale::kLog : hpo::Scale::kLinear;
    if (*type == "float") {
      spec = hpo::ParamSpec::Float(name, *low, *high, scale, step);
    } else {
      if (*low != std::floor(*low) || *high != std::floor(*high)) {
        return Err(Status::InvalidArgument(path + ".min and max must be integers for an int", path + ".min"));
      }
      if (step && *step != std::floor(*step)) {
        return Err(Status::InvalidArgument(path + ".step must be an integer for an int", path + ".step"));
      }
      spec = hpo::ParamSpec::Int(name, static_cast<int64_t>(*low), static_cast<int64_t>(*high), scale,
                                 static_cast<int64_t>(step.value_or(1)));
    }
    if (grid_points) spec.grid_points = static_cast<int>(*grid_points);
  } else if (*type == "categorical") {
    const json* choices = r.Raw("choices");
    if (choices == nullptr || !choices->is_array() || choices->empty()) {
      return Err(Status::InvalidArgument(path + ".choices must be a non-empty list", path + ".choices"));
    }
    std::vector<hpo::ParamValue> values;
    std::set<std::string> seen;
    for (size_t i = 0; i < choices->size(); ++i) {
      std::string field = path + ".choices." + std::to_string(i);
      STOKE_ASSIGN_OR_RETURN(hpo::ParamValue v, ChoiceValue((*choices)[i], field));
      if (!seen.insert(hpo::ParamValueToString(v)).second) {
        return Err(Status::InvalidArgument(field + " repeats an earlier choice", field));
      }
      values.push_back(std::move(v));
    }
    spec = hpo::ParamSpec::Categorical(name, std::move(values));
  } else if (*type == "fixed") {
    const json* value = r.Raw("value");
    if (value == nullptr) return Err(Status::InvalidArgument(path + ".value is required", path + ".value"));
    STOKE_ASSIGN_OR_RETURN(hpo::ParamValue v, ChoiceValue(*value, path + ".value"));
    spec = hpo::ParamSpec::Fixed(name, std::move(v));
  } else {
    return Err(Status::InvalidArgument(path + ".type must be float, int, categorical or fixed, got \"" + *type + "\"",
                                       path + ".type"));
  }
  STOKE_RETURN_IF_ERROR(r.Finish());
  return spec;
}

Status ParseAlgorithm(const json& body, ExperimentSpec& out) {
  hpo::ExperimentConfig& c = out.config;
  if (body.is_string()) return ParseAlgorithm(json{{"name", body}}, out);
  STOKE_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Make(body, "algorithm"));
  STOKE_ASSIGN_OR_RETURN(auto name, r.String("name", 32));
  if (!name) return Err(Status::InvalidArgument("algorithm.name is required", "algorithm.name"));
  STOKE_ASSIGN_OR_RETURN(auto sampler, r.String("sampler", 32));
  auto sampler_kind = [&](const std::string& s) -> Result<hpo::SamplerKind> {
    if (s == "grid") return hpo::SamplerKind::kGrid;
    if (s == "random") return hpo::SamplerKind::kRandom;
    if (s == "tpe") return hpo::SamplerKind::kTpe;
    if (s == "bayesian" || s == "gp") return hpo::SamplerKind::kGp;
    return Err(Status::InvalidArgument("algorithm.sampler must be grid, random, tpe or bayesian", "algorithm.sampler"));
  };
  if (*name == "grid" || *name == "random" || *name == "tpe" || *name == "bayesian") {
    STOKE_ASSIGN_OR_RETURN(c.sampler, sampler_kind(*name));
    c.method = hpo::MethodKind::kSingleFidelity;
  } else if (*name == "asha" || *name == "hyperband") {
    c.method = *name == "asha" ? hpo::MethodKind::kAsha : hpo::MethodKind::kHyperband;
    c.sampler = hpo::SamplerKind::kRandom;
    if (sampler) {
      STOKE_ASSIGN_OR_RETURN(c.sampler, sampler_kind(*sampler));
    }
    STOKE_ASSIGN_OR_RETURN(auto resource, r.String("resource", 64));
    STOKE_ASSIGN_OR_RETURN(auto min_r, r.Int("min_resource", 1, int64_t{1} << 40));
    STOKE_ASSIGN_OR_RETURN(auto max_r, r.Int("max_resource", 1, int64_t{1} << 40));
    STOKE_ASSIGN_OR_RETURN(auto eta, r.Int("reduction_factor", 2, 100));
    STOKE_ASSIGN_OR_RETURN(auto brackets, r.Int("brackets", 0, 64));
    if (!max_r) return Err(Status::InvalidArgument("algorithm.max_resource is required for " + *name, "algorithm.max_resource"));
    c.halving.min_resource = min_r.value_or(1);
    c.halving.max_resource = *max_r;
    if (c.halving.min_resource > c.halving.max_resource) {
      return Err(Status::InvalidArgument("algorithm.min_resource must be <= max_resource", "algorithm.min_resource"));
    }
    c.halving.eta = static_cast<int>(eta.value_or(3));
    c.halving.num_brackets = c.method == hpo::MethodKind::kAsha ? 1 : static_cast<int>(brackets.value_or(0));
    c.budget.max_resource = *max_r;
    out.resource_param = resource.value_or("");
  } else {
    return Err(Status::InvalidArgument(
        "algorithm.name must be grid, random, tpe, bayesian, asha or hyperband, got \"" + *name + "\"", "algorithm.name"));
  }
  STOKE_ASSIGN_OR_RETURN(auto startup, r.Int("n_startup_trials", 0, 100000));
  if (startup) {
    c.tpe.n_startup_trials = static_cast<int>(*startup);
    c.gp.n_startup_trials = static_cast<int>(*startup);
  }
  STOKE_ASSIGN_OR_RETURN(auto multivariate, r.Bool("multivariate"));
  if (multivariate) c.tpe.multivariate = *multivariate;
  STOKE_ASSIGN_OR_RETURN(auto liar, r.Bool("constant_liar"));
  if (liar) c.tpe.constant_liar = *liar;
  STOKE_ASSIGN_OR_RETURN(auto grid_points, r.Int("grid_points", 2, 100000));
  if (grid_points) {
    for (auto& p : c.space.params) {
      if (p.kind == hpo::ParamKind::kFloat && p.grid_points == 0) p.grid_points = static_cast<int>(*grid_points);
    }
  }
  STOKE_ASSIGN_OR_RETURN(auto median, r.Object("median_stopping"));
  if (median) {
    hpo::MedianStoppingOptions m;
    STOKE_ASSIGN_OR_RETURN(auto warmup, median->Int("warmup_trials", 0, 100000));
    STOKE_ASSIGN_OR_RETURN(auto min_steps, median->Int("min_steps", 0, int64_t{1} << 40));
    STOKE_ASSIGN_OR_RETURN(auto min_trials, median->Int("min_trials_at_step", 1, 100000));
    STOKE_RETURN_IF_ERROR(median->Finish());
    if (warmup) m.n_startup_trials = static_cast<int>(*warmup);
    if (min_steps) m.n_warmup_resource = *min_steps;
    if (min_trials) m.min_trials_at_step = static_cast<int>(*min_trials);
    c.median_stopping = m;
  }
  return r.Finish();
}

// "--global-batch" -> "global_batch".
std::string TrainKeyOfFlag(const std::string& flag) {
  std::string key = flag.substr(2);
  for (char& c : key) c = c == '-' ? '_' : c;
  return key;
}

Status CheckPlaceholders(const JobSpec& trial, const hpo::SearchSpace& space, const std::string& resource) {
  static const std::regex kPlaceholder(R"(\{([A-Za-z_][A-Za-z0-9_.-]*)\})");
  std::set<std::string> names;
  for (const auto& p : space.params) names.insert(p.name);
  if (!resource.empty()) names.insert(resource);
  for (size_t i = 0; i < trial.argv.size(); ++i) {
    for (std::sregex_iterator it(trial.argv[i].begin(), trial.argv[i].end(), kPlaceholder), end; it != end; ++it) {
      std::string name = (*it)[1];
      if (!names.contains(name)) {
        // Elastic trials: argv is --flag value pairs made from "train"; name the train key.
        std::string field = trial.type == JobType::kElastic && i > 0 && trial.argv[i - 1].starts_with("--")
                                ? "trial.train." + TrainKeyOfFlag(trial.argv[i - 1])
                                : "trial.argv." + std::to_string(i);
        return Status::InvalidArgument(field + " uses {" + name + "}, which is not a parameter of the space", field);
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ExperimentSpec> ParseExperimentSpec(const json& body) {
  STOKE_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Make(body));
  ExperimentSpec spec;
  STOKE_ASSIGN_OR_RETURN(auto name, r.String("name", 100));
  spec.name = name.value_or("experiment");
  if (spec.name.empty()) return Err(Status::InvalidArgument("name must not be empty", "name"));

  STOKE_ASSIGN_OR_RETURN(auto objective, r.Object("objective"));
  if (!objective) return Err(Status::InvalidArgument("objective is required: {metric, direction}", "objective"));
  STOKE_ASSIGN_OR_RETURN(auto metric, objective->String("metric", 128));
  STOKE_ASSIGN_OR_RETURN(auto direction, objective->String("direction", 16));
  STOKE_RETURN_IF_ERROR(objective->Finish());
  if (!metric || metric->empty()) return Err(Status::InvalidArgument("objective.metric is required", "objective.metric"));
  spec.metric = *metric;
  std::string dir = direction.value_or("minimize");
  if (dir != "minimize" && dir != "maximize") {
    return Err(Status::InvalidArgument("objective.direction must be minimize or maximize", "objective.direction"));
  }
  spec.maximize = dir == "maximize";
  spec.config.budget.direction = spec.maximize ? hpo::Direction::kMaximize : hpo::Direction::kMinimize;

  const json* space = r.Raw("space");
  if (space == nullptr || !space->is_object() || space->empty()) {
    return Err(Status::InvalidArgument("space must be a non-empty mapping of parameter name to spec", "space"));
  }
  for (const auto& [pname, pbody] : space->items()) {
    static const std::regex kName("[A-Za-z_][A-Za-z0-9_.-]{0,63}");
    if (!std::regex_match(pname, kName)) {
      return Err(Status::InvalidArgument("parameter names are letters, digits, '_', '.', '-'", "space." + pname));
    }
    STOKE_ASSIGN_OR_RETURN(hpo::ParamSpec p, ParseParam(pname, pbody, "space." + pname));
    spec.config.space.params.push_back(std::move(p));
  }
  if (Status s = hpo::Validate(spec.config.space); !s.ok()) return Err(s.WithFieldPrefix("space"));

  const json* algorithm = r.Raw("algorithm");
  if (algorithm == nullptr) return Err(Status::InvalidArgument("algorithm is required", "algorithm"));
  STOKE_RETURN_IF_ERROR(ParseAlgorithm(*algorithm, spec));
  if (!spec.resource_param.empty()) {
    for (const auto& p : spec.config.space.params) {
      if (p.name == spec.resource_param && p.kind != hpo::ParamKind::kFixed) {
        return Err(Status::InvalidArgument("the resource '" + spec.resource_param +
                                               "' is set by the algorithm: remove it from space or make it fixed",
                                           "algorithm.resource"));
      }
    }
  }

  STOKE_ASSIGN_OR_RETURN(auto budget, r.Object("budget"));
  if (budget) {
    STOKE_ASSIGN_OR_RETURN(auto max_trials, budget->Int("max_trials", 1, 100000));
    STOKE_ASSIGN_OR_RETURN(auto max_parallel, budget->Int("max_parallel", 1, 10000));
    STOKE_ASSIGN_OR_RETURN(auto max_time, budget->Int("max_time_s", 0, int64_t{365} * 24 * 3600));
    STOKE_ASSIGN_OR_RETURN(auto retries, budget->Int("max_retries", 0, 100));
    STOKE_RETURN_IF_ERROR(budget->Finish());
    if (max_trials) spec.config.budget.max_trials = static_cast<int>(*max_trials);
    if (max_parallel) spec.config.budget.max_parallel = static_cast<int>(*max_parallel);
    if (retries) spec.config.budget.max_retries = static_cast<int>(*retries);
    spec.max_time_s = max_time.value_or(0);
  }
  STOKE_ASSIGN_OR_RETURN(auto seed, r.Int("seed", 0, INT64_MAX));
  spec.config.seed = static_cast<uint64_t>(seed.value_or(0));

  const json* trial = r.Raw("trial");
  if (trial == nullptr) return Err(Status::InvalidArgument("trial is required: the command job each trial runs", "trial"));
  auto trial_spec = ParseJobSpec(*trial);
  if (!trial_spec) return Err(trial_spec.error().WithFieldPrefix("trial"));
  spec.trial = std::move(*trial_spec);
  STOKE_RETURN_IF_ERROR(CheckPlaceholders(spec.trial, spec.config.space, spec.resource_param));
  STOKE_RETURN_IF_ERROR(r.Finish());
  STOKE_RETURN_IF_ERROR(hpo::Validate(spec.config));
  spec.spec_json = body.dump();
  return spec;
}

Result<ExperimentSpec> ParseExperimentSpecText(std::string_view json_text) {
  STOKE_ASSIGN_OR_RETURN(json body, ParseJsonText(json_text));
  return ParseExperimentSpec(body);
}

json ParamsToJson(const hpo::ParamSample& params) {
  json out = json::object();
  for (const auto& [name, v] : params) std::visit([&](const auto& x) { out[name] = x; }, v);
  return out;
}

namespace {
json TimeOrNull(UnixMillis ms) { return ms == 0 ? json(nullptr) : json(FormatRfc3339(ms)); }
json NumOrNull(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
}  // namespace

json TrialToJson(const service::Trial& t) {
  return json{{"id", t.id},
              {"job", t.job == 0 ? json(nullptr) : json(t.job)},
              {"jobs", [&] {
                 std::vector<JobId> all = t.previous_jobs;
                 if (t.job != 0) all.push_back(t.job);
                 return all;
               }()},
              {"params", ParamsToJson(t.params)},
              {"state", std::string(service::TrialStateName(t.state))},
              {"value", NumOrNull(t.value)},
              {"best_value", NumOrNull(t.best_value)},
              {"last_step", t.last_step < 0 ? json(nullptr) : json(t.last_step)},
              {"resource", t.max_resource},
              {"attempts", t.attempt + 1},
              {"reason", t.reason},
              {"created_at", TimeOrNull(t.created_at)},
              {"finished_at", TimeOrNull(t.finished_at)}};
}

json ExperimentToJson(const service::Experiment& e) {
  json spec = json::object();
  try {
    spec = json::parse(e.spec.spec_json);
  } catch (...) {
  }
  int running = 0, completed = 0, pruned = 0, failed = 0, pending = 0, stopped = 0;
  for (const auto& t : e.trials) {
    switch (t.state) {
      case service::TrialState::kPending: ++pending; break;
      case service::TrialState::kRunning: ++running; break;
      case service::TrialState::kCompleted: ++completed; break;
      case service::TrialState::kPruned: ++pruned; break;
      case service::TrialState::kFailed: ++failed; break;
      case service::TrialState::kStopped: ++stopped; break;
    }
  }
  json best = nullptr;
  if (const service::Trial* b = e.Best()) {
    best = {{"trial", b->id}, {"value", *b->best_value}, {"params", ParamsToJson(b->params)}, {"job", b->job}};
  }
  return json{{"id", e.id},
              {"name", e.spec.name},
              {"user", e.user},
              {"state", std::string(service::ExperimentStateName(e.state))},
              {"progress", e.progress},
              {"objective", {{"metric", e.spec.metric}, {"direction", e.spec.maximize ? "maximize" : "minimize"}}},
              {"algorithm", spec.value("algorithm", json(nullptr))},
              {"budget", spec.value("budget", json::object())},
              {"spec", spec},
              {"trials",
               {{"total", e.trials.size()},
                {"pending", pending},
                {"running", running},
                {"completed", completed},
                {"pruned", pruned},
                {"failed", failed},
                {"stopped", stopped}}},
              {"best", best},
              {"reason", e.reason},
              {"created_at", TimeOrNull(e.created_at)},
              {"finished_at", TimeOrNull(e.finished_at)}};
}

}  // namespace stoke::api
