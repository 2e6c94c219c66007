#include "wmla/hpo_translate.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>

#include "wmla/launcher_script.h"

namespace stoke::wmla {

using nlohmann::json;

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A number given as a JSON number or a numeric string ("0.1", "81").
Result<double> Number(const json& v, const std::string& field) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    try {
      size_t used = 0;
      double d = std::stod(s, &used);
      if (used == s.size() && std::isfinite(d)) return d;
    } catch (const std::exception&) {
    }
  }
  return Err(Status::InvalidArgument(field + " must be a number", field));
}

Result<int64_t> Integer(const json& v, const std::string& field) {
  STOKE_ASSIGN_OR_RETURN(double d, Number(v, field));
  if (d != std::floor(d) || std::fabs(d) > 9e15) return Err(Status::InvalidArgument(field + " must be an integer", field));
  return static_cast<int64_t>(d);
}

const json* Find(const json& obj, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = obj.find(k);
    if (it != obj.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

Result<std::string> String(const json& obj, const char* key, const std::string& field) {
  const json* v = Find(obj, {key});
  if (v == nullptr) return std::string();
  if (!v->is_string()) return Err(Status::InvalidArgument(field + " must be a string", field));
  return v->get<std::string>();
}

// "int" | "double" | "str" from WMLA's dataType spellings (int, INT, integer, double, DOUBLE, float, str, STRING).
Result<std::string> DataType(const json& item, const std::string& path) {
  STOKE_ASSIGN_OR_RETURN(std::string t, String(item, "dataType", path + ".dataType"));
  t = Lower(t);
  if (t.empty() || t == "double" || t == "float" || t == "number") return std::string("double");
  if (t == "int" || t == "integer" || t == "long") return std::string("int");
  if (t == "str" || t == "string") return std::string("str");
  return Err(Status::InvalidArgument(path + ".dataType must be int, double or str", path + ".dataType"));
}

// A fixed value given as text (WMLA sends "0.1") or as JSON, typed by dataType.
Result<json> TypedValue(const json& v, const std::string& type, const std::string& field) {
  if (type == "str") {
    if (v.is_string()) return v;
    return json(v.dump());
  }
  if (type == "int") {
    STOKE_ASSIGN_OR_RETURN(int64_t i, Integer(v, field));
    return json(i);
  }
  STOKE_ASSIGN_OR_RETURN(double d, Number(v, field));
  return json(d);
}

Result<json> ParseParam(const json& item, const std::string& path, std::string& name, std::string& type_out) {
  if (!item.is_object()) return Err(Status::InvalidArgument(path + " must be an object", path));
  STOKE_ASSIGN_OR_RETURN(name, String(item, "name", path + ".name"));
  static const std::regex kName("[A-Za-z_][A-Za-z0-9_.-]{0,63}");
  if (!std::regex_match(name, kName)) {
    return Err(Status::InvalidArgument(path + ".name must be letters, digits, '_', '.', '-' (max 64)", path + ".name"));
  }
  STOKE_ASSIGN_OR_RETURN(std::string kind, String(item, "type", path + ".type"));
  kind = Lower(kind);
  STOKE_ASSIGN_OR_RETURN(type_out, DataType(item, path));
  const std::string& dt = type_out;
  if (kind == "range") {
    if (dt == "str") return Err(Status::InvalidArgument(path + ": a Range cannot be of dataType str", path + ".dataType"));
    const char* min_key = dt == "int" ? "minIntVal" : "minDbVal";
    const char* max_key = dt == "int" ? "maxIntVal" : "maxDbVal";
    const json* lo = Find(item, {min_key});
    const json* hi = Find(item, {max_key});
    if (lo == nullptr) return Err(Status::InvalidArgument(path + "." + min_key + " is required", path + "." + min_key));
    if (hi == nullptr) return Err(Status::InvalidArgument(path + "." + max_key + " is required", path + "." + max_key));
    json p = {{"type", dt == "int" ? "int" : "float"}};
    if (dt == "int") {
      STOKE_ASSIGN_OR_RETURN(int64_t a, Integer(*lo, path + "." + min_key));
      STOKE_ASSIGN_OR_RETURN(int64_t b, Integer(*hi, path + "." + max_key));
      p["min"] = a;
      p["max"] = b;
    } else {
      STOKE_ASSIGN_OR_RETURN(double a, Number(*lo, path + "." + min_key));
      STOKE_ASSIGN_OR_RETURN(double b, Number(*hi, path + "." + max_key));
      p["min"] = a;
      p["max"] = b;
    }
    if (p["min"].get<double>() > p["max"].get<double>()) {
      return Err(Status::InvalidArgument(path + "." + min_key + " must be <= " + max_key, path + "." + min_key));
    }
    if (const json* step = Find(item, {"step"})) {
      STOKE_ASSIGN_OR_RETURN(double s, Number(*step, path + ".step"));
      if (s > 0) p["step"] = s;
    }
    // WMLA's `power` samples on a power (log) scale; the base does not change a log-uniform draw.
    if (const json* power = Find(item, {"power"})) {
      STOKE_ASSIGN_OR_RETURN(double b, Number(*power, path + ".power"));
      if (b > 1) {
        if (p["min"].get<double>() <= 0) {
          return Err(Status::InvalidArgument(path + ": a power scale needs a minimum > 0", path + "." + min_key));
        }
        p["log"] = true;
      }
    }
    return p;
  }
  if (kind == "discrete") {
    const json* list = dt == "int"   ? Find(item, {"discreteIntVal"})
                       : dt == "str" ? Find(item, {"discreateStrVal", "discreteStrVal"})
                                     : Find(item, {"discreteDbVal"});
    std::string key = dt == "int" ? "discreteIntVal" : dt == "str" ? "discreateStrVal" : "discreteDbVal";
    if (list == nullptr || !list->is_array() || list->empty()) {
      return Err(Status::InvalidArgument(path + "." + key + " must be a non-empty list", path + "." + key));
    }
    json choices = json::array();
    for (size_t i = 0; i < list->size(); ++i) {
      STOKE_ASSIGN_OR_RETURN(json v, TypedValue((*list)[i], dt, path + "." + key + "." + std::to_string(i)));
      if (std::find(choices.begin(), choices.end(), v) == choices.end()) choices.push_back(v);
    }
    return json{{"type", "categorical"}, {"choices", choices}};
  }
  if (kind == "fix" || kind == "fixed") {
    const json* v = Find(item, {"fixedVal", "value"});
    if (v == nullptr) return Err(Status::InvalidArgument(path + ".fixedVal is required", path + ".fixedVal"));
    STOKE_ASSIGN_OR_RETURN(json typed, TypedValue(*v, dt, path + ".fixedVal"));
    return json{{"type", "fixed"}, {"value", typed}};
  }
  return Err(Status::InvalidArgument(path + ".type must be Range, Discrete or fix", path + ".type"));
}

// algoParams: [{"name": "RandomSeed", "value": "7"}] (values are strings in WMLA; numbers accepted).
std::map<std::string, json> AlgoParams(const json& algo_def) {
  std::map<std::string, json> out;
  const json* list = Find(algo_def, {"algoParams"});
  if (list == nullptr || !list->is_array()) return out;
  for (const json& p : *list) {
    if (p.is_object() && p.contains("name") && p["name"].is_string() && p.contains("value")) {
      out[Lower(p["name"].get<std::string>())] = p["value"];
    }
  }
  return out;
}

Status ParseGrid(const json& body, HpoTask& task) {
  const json* rows = Find(body, {"experiments"});
  if (rows == nullptr || !rows->is_array() || rows->empty()) {
    return Status::InvalidArgument("ExperimentGridSearch needs a non-empty experiments list", "experiments");
  }
  for (size_t i = 0; i < rows->size(); ++i) {
    std::string path = "experiments." + std::to_string(i);
    const json& row = (*rows)[i];
    if (!row.is_object()) return Status::InvalidArgument(path + " must be an object", path);
    int64_t id = static_cast<int64_t>(i);
    if (const json* v = Find(row, {"id"})) {
      STOKE_ASSIGN_OR_RETURN(id, Integer(*v, path + ".id"));
    }
    const json* params = Find(row, {"hyperParams", "fixedHyperParams"});
    if (params == nullptr || !params->is_array() || params->empty()) {
      return Status::InvalidArgument(path + ".hyperParams must be a non-empty list", path + ".hyperParams");
    }
    json values = json::object();
    for (size_t j = 0; j < params->size(); ++j) {
      std::string ppath = path + ".hyperParams." + std::to_string(j);
      const json& p = (*params)[j];
      if (!p.is_object()) return Status::InvalidArgument(ppath + " must be an object", ppath);
      STOKE_ASSIGN_OR_RETURN(std::string name, String(p, "name", ppath + ".name"));
      if (name.empty()) return Status::InvalidArgument(ppath + ".name is required", ppath + ".name");
      STOKE_ASSIGN_OR_RETURN(std::string dt, DataType(p, ppath));
      const json* v = Find(p, {"fixedVal", "value"});
      if (v == nullptr) return Status::InvalidArgument(ppath + ".fixedVal is required", ppath + ".fixedVal");
      STOKE_ASSIGN_OR_RETURN(values[name], TypedValue(*v, dt, ppath + ".fixedVal"));
      task.data_types[name] = dt;
    }
    task.grid_rows.push_back(std::move(values));
    task.grid_ids.push_back(id);
  }
  json choices = json::array();
  for (size_t i = 0; i < task.grid_rows.size(); ++i) choices.push_back(static_cast<int64_t>(i));
  task.space = json{{std::string(kGridIndexParam), {{"type", "categorical"}, {"choices", choices}}}};
  task.algorithm_spec = json{{"name", "grid"}};
  return Status::Ok();
}

}  // namespace

Result<HpoTask> ParseHpoTask(const json& body) {
  if (!body.is_object()) return Err(Status::InvalidArgument("the HPO task must be a JSON object", "data"));
  HpoTask task;
  STOKE_ASSIGN_OR_RETURN(task.hpo_name, String(body, "hpoName", "hpoName"));
  if (!task.hpo_name.empty()) {
    static const std::regex kName("[A-Za-z0-9][A-Za-z0-9_.-]{0,99}");
    if (!std::regex_match(task.hpo_name, kName) || task.hpo_name == "algorithm") {
      return Err(Status::InvalidArgument("hpoName must be letters, digits, '_', '.', '-' (max 100)", "hpoName"));
    }
  }
  const json* model_spec = Find(body, {"modelSpec"});
  if (model_spec == nullptr || !model_spec->is_object()) {
    return Err(Status::InvalidArgument("modelSpec is required: {\"args\": \"--exec-start ... --model-main ...\"}",
                                       "modelSpec"));
  }
  STOKE_ASSIGN_OR_RETURN(task.model_args, String(*model_spec, "args", "modelSpec.args"));
  if (task.model_args.empty()) return Err(Status::InvalidArgument("modelSpec.args is required", "modelSpec.args"));

  const json* algo = Find(body, {"algoDef"});
  if (algo == nullptr || !algo->is_object()) return Err(Status::InvalidArgument("algoDef is required", "algoDef"));
  task.algo_def = *algo;
  STOKE_ASSIGN_OR_RETURN(std::string algorithm, String(*algo, "algorithm", "algoDef.algorithm"));
  std::string key = Lower(algorithm);
  if (key == "random") task.algorithm = "Random";
  else if (key == "tpe") task.algorithm = "TPE";
  else if (key == "bayesian") task.algorithm = "Bayesian";
  else if (key == "hyperband") task.algorithm = "Hyperband";
  else if (key == "experimentgridsearch") task.algorithm = "ExperimentGridSearch";
  else {
    return Err(Status::InvalidArgument(
        "algoDef.algorithm must be Random, TPE, Bayesian, Hyperband or ExperimentGridSearch, got \"" + algorithm + "\"",
        "algoDef.algorithm"));
  }
  STOKE_ASSIGN_OR_RETURN(task.metric, String(*algo, "objectiveMetric", "algoDef.objectiveMetric"));
  if (task.metric.empty()) {
    return Err(Status::InvalidArgument("algoDef.objectiveMetric is required (the key your val_dict_list.json reports)",
                                       "algoDef.objectiveMetric"));
  }
  STOKE_ASSIGN_OR_RETURN(std::string objective, String(*algo, "objective", "algoDef.objective"));
  objective = Lower(objective);
  if (!objective.empty() && objective != "minimize" && objective != "maximize") {
    return Err(Status::InvalidArgument("algoDef.objective must be minimize or maximize", "algoDef.objective"));
  }
  task.maximize = objective == "maximize";
  if (const json* v = Find(*algo, {"maxParalleJobNum", "maxParalleJob", "maxParallelJobNum"})) {
    STOKE_ASSIGN_OR_RETURN(int64_t n, Integer(*v, "algoDef.maxParalleJobNum"));
    if (n < 1 || n > 10000) return Err(Status::InvalidArgument("algoDef.maxParalleJobNum must be 1..10000", "algoDef.maxParalleJobNum"));
    task.max_parallel = static_cast<int>(n);
  }
  int64_t max_jobs = -1;
  if (const json* v = Find(*algo, {"maxJobNum"})) {
    STOKE_ASSIGN_OR_RETURN(max_jobs, Integer(*v, "algoDef.maxJobNum"));
    if (max_jobs == 0 || max_jobs < -1 || max_jobs > 100000) {
      return Err(Status::InvalidArgument("algoDef.maxJobNum must be 1..100000 or -1", "algoDef.maxJobNum"));
    }
  }
  if (const json* v = Find(*algo, {"maxRunTime"})) {
    STOKE_ASSIGN_OR_RETURN(int64_t minutes, Integer(*v, "algoDef.maxRunTime"));
    task.max_run_time_s = minutes > 0 ? minutes * 60 : 0;
  }
  auto params = AlgoParams(*algo);
  auto param_int = [&](const char* name, const std::string& field) -> Result<std::optional<int64_t>> {
    auto it = params.find(Lower(name));
    if (it == params.end()) return std::optional<int64_t>();
    STOKE_ASSIGN_OR_RETURN(int64_t v, Integer(it->second, field));
    return std::optional<int64_t>(v);
  };
  STOKE_ASSIGN_OR_RETURN(auto seed, param_int("RandomSeed", "algoDef.algoParams.RandomSeed"));
  if (seed) task.seed = static_cast<uint64_t>(*seed < 0 ? -*seed : *seed);

  if (task.algorithm == "ExperimentGridSearch") {
    STOKE_RETURN_IF_ERROR(ParseGrid(body, task));
    int rows = static_cast<int>(task.grid_rows.size());
    task.max_jobs = max_jobs > 0 ? std::min<int>(rows, static_cast<int>(max_jobs)) : rows;
  } else {
    const json* hps = Find(body, {"hyperParams"});
    if (hps == nullptr || !hps->is_array() || hps->empty()) {
      return Err(Status::InvalidArgument("hyperParams must be a non-empty list", "hyperParams"));
    }
    task.space = json::object();
    for (size_t i = 0; i < hps->size(); ++i) {
      std::string path = "hyperParams." + std::to_string(i);
      std::string name, type;
      STOKE_ASSIGN_OR_RETURN(json p, ParseParam((*hps)[i], path, name, type));
      if (task.space.contains(name)) return Err(Status::InvalidArgument(path + ".name repeats " + name, path + ".name"));
      task.space[name] = std::move(p);
      task.data_types[name] = type;
    }
    task.max_jobs = max_jobs > 0 ? static_cast<int>(max_jobs) : 100;
    if (task.algorithm == "Random") {
      task.algorithm_spec = json{{"name", "random"}};
    } else if (task.algorithm == "TPE") {
      task.algorithm_spec = json{{"name", "tpe"}};
      STOKE_ASSIGN_OR_RETURN(auto warm, param_int("WarmUp", "algoDef.algoParams.WarmUp"));
      if (warm) task.algorithm_spec["n_startup_trials"] = std::max<int64_t>(0, *warm);
    } else if (task.algorithm == "Bayesian") {
      task.algorithm_spec = json{{"name", "bayesian"}};
      STOKE_ASSIGN_OR_RETURN(auto init, param_int("InitPoints", "algoDef.algoParams.InitPoints"));
      if (init) task.algorithm_spec["n_startup_trials"] = std::max<int64_t>(0, *init);
    } else {  // Hyperband
      std::string resource = "epochs";
      if (auto it = params.find("resourcename"); it != params.end() && it->second.is_string()) {
        resource = it->second.get<std::string>();
      }
      STOKE_ASSIGN_OR_RETURN(auto max_r, param_int("ResourceValue", "algoDef.algoParams.ResourceValue"));
      // A resource listed among the hyperParams is the algorithm's to set: its range gives the maximum.
      if (task.space.contains(resource)) {
        const json& p = task.space[resource];
        if (!max_r && p.contains("max")) max_r = static_cast<int64_t>(p["max"].get<double>());
        if (!max_r && p.value("type", "") == "fixed") max_r = static_cast<int64_t>(p["value"].get<double>());
        task.space.erase(resource);
      }
      if (!max_r || *max_r < 1) {
        return Err(Status::InvalidArgument("Hyperband needs algoParams ResourceValue (the maximum of " + resource + ") >= 1",
                                           "algoDef.algoParams.ResourceValue"));
      }
      int64_t eta = 3;
      if (auto it = params.find("eta"); it != params.end()) {
        STOKE_ASSIGN_OR_RETURN(double e, Number(it->second, "algoDef.algoParams.eta"));
        eta = std::llround(e);
      } else {
        const json* e = Find(*algo, {"hyperbandEta"});
        if (e == nullptr) e = Find(body, {"hyperbandEta"});
        if (e != nullptr) {
          STOKE_ASSIGN_OR_RETURN(double d, Number(*e, "hyperbandEta"));
          eta = std::llround(d);
        }
      }
      if (eta < 2 || eta > 100) return Err(Status::InvalidArgument("Hyperband eta must be 2..100", "algoDef.algoParams.eta"));
      task.algorithm_spec = json{{"name", "hyperband"}, {"resource", resource}, {"min_resource", 1},
                                 {"max_resource", *max_r}, {"reduction_factor", eta}};
      task.data_types[resource] = "int";
      if (task.space.empty()) {
        return Err(Status::InvalidArgument("hyperParams must hold at least one parameter besides the resource " + resource,
                                           "hyperParams"));
      }
    }
  }
  task.hyper_params = json::array();
  if (const json* hps = Find(body, {"hyperParams"}); hps != nullptr && hps->is_array()) {
    for (json p : *hps) {
      if (p.is_object()) {
        if (p.contains("type") && p["type"].is_string()) p["type"] = Lower(p["type"].get<std::string>());
        p["userDefined"] = false;
      }
      task.hyper_params.push_back(std::move(p));
    }
  }
  return task;
}

json BuildExperimentSpec(const HpoTask& task, const std::string& name, const json& trial) {
  json budget = {{"max_trials", task.max_jobs}, {"max_parallel", task.max_parallel}};
  if (task.max_run_time_s > 0) budget["max_time_s"] = task.max_run_time_s;
  return json{{"name", name},
              {"objective", {{"metric", task.metric}, {"direction", task.maximize ? "maximize" : "minimize"}}},
              {"space", task.space},
              {"algorithm", task.algorithm_spec},
              {"budget", budget},
              {"seed", task.seed},
              {"trial", trial}};
}

json BuiltinAlgorithms() {
  json out = json::array();
  for (const char* name : {"Random", "TPE", "Bayesian", "Hyperband", "ExperimentGridSearch"}) {
    out.push_back({{"name", name}, {"type", "BUILD_IN"}, {"path", ""}, {"createtime", ""}, {"remoteExec", false}});
  }
  return out;
}

}  // namespace stoke::wmla
