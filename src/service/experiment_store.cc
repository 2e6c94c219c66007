#include "service/experiment_store.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace stoke::service {

using nlohmann::json;

namespace {

constexpr std::string_view kNamespace = "experiments";
constexpr std::string_view kMetaNamespace = "experiments_meta";

std::string Key(ExperimentId id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%012lld", static_cast<long long>(id));
  return buf;
}

json ParamsToJson(const hpo::ParamSample& params) {
  json out = json::object();
  for (const auto& [name, v] : params) {
    std::visit([&](const auto& x) { out[name] = x; }, v);
  }
  return out;
}

hpo::ParamSample ParamsFromJson(const json& j) {
  hpo::ParamSample out;
  for (const auto& [name, v] : j.items()) {
    if (v.is_number_integer()) out[name] = v.get<int64_t>();
    else if (v.is_number()) out[name] = v.get<double>();
    else if (v.is_string()) out[name] = v.get<std::string>();
  }
  return out;
}

json OptionalNumber(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
std::optional<double> NumberOrNull(const json& j) {
  if (j.is_number()) return j.get<double>();
  return std::nullopt;
}

}  // namespace

std::string ExperimentStore::Encode(const Experiment& e) {
  json trials = json::array();
  for (const Trial& t : e.trials) {
    trials.push_back({{"id", t.id},
                      {"attempt", t.attempt},
                      {"job", t.job},
                      {"params", ParamsToJson(t.params)},
                      {"max_resource", t.max_resource},
                      {"state", std::string(TrialStateName(t.state))},
                      {"value", OptionalNumber(t.value)},
                      {"best_value", OptionalNumber(t.best_value)},
                      {"last_step", t.last_step},
                      {"reason", t.reason},
                      {"stop_requested", t.stop_requested},
                      {"created_at", t.created_at},
                      {"finished_at", t.finished_at},
                      {"previous_jobs", t.previous_jobs}});
  }
  json j = {{"id", e.id},
            {"user", e.user},
            {"spec_json", e.spec.spec_json},
            {"state", std::string(ExperimentStateName(e.state))},
            {"reason", e.reason},
            {"progress", e.progress},
            {"created_at", e.created_at},
            {"finished_at", e.finished_at},
            {"code_archive", e.code_archive},
            {"searcher_snapshot", e.searcher_snapshot},
            {"search_done", e.search_done},
            {"trials", trials}};
  return j.dump();
}

Result<Experiment> ExperimentStore::Decode(std::string_view text) {
  try {
    json j = json::parse(text);
    Experiment e;
    e.id = j.at("id").get<int64_t>();
    e.user = j.at("user").get<std::string>();
    e.spec.spec_json = j.at("spec_json").get<std::string>();
    e.state = ParseExperimentState(j.at("state").get<std::string>()).value_or(ExperimentState::kFailed);
    e.reason = j.value("reason", "");
    e.progress = j.value("progress", 0.0);
    e.created_at = j.value("created_at", int64_t{0});
    e.finished_at = j.value("finished_at", int64_t{0});
    e.code_archive = j.value("code_archive", "");
    e.searcher_snapshot = j.value("searcher_snapshot", "");
    e.search_done = j.value("search_done", false);
    for (const json& tj : j.at("trials")) {
      Trial t;
      t.id = tj.at("id").get<int64_t>();
      t.attempt = tj.value("attempt", 0);
      t.job = tj.value("job", int64_t{0});
      t.params = ParamsFromJson(tj.at("params"));
      t.max_resource = tj.value("max_resource", int64_t{0});
      t.state = ParseTrialState(tj.at("state").get<std::string>()).value_or(TrialState::kFailed);
      t.value = NumberOrNull(tj.at("value"));
      t.best_value = NumberOrNull(tj.at("best_value"));
      t.last_step = tj.value("last_step", int64_t{-1});
      t.reason = tj.value("reason", "");
      t.stop_requested = tj.value("stop_requested", false);
      t.created_at = tj.value("created_at", int64_t{0});
      t.finished_at = tj.value("finished_at", int64_t{0});
      t.previous_jobs = tj.value("previous_jobs", std::vector<JobId>{});
      e.trials.push_back(std::move(t));
    }
    return e;
  } catch (const std::exception& ex) {
    return Err(Status::Internal(std::string("corrupt experiment record: ") + ex.what()));
  }
}

Result<ExperimentId> ExperimentStore::NextId() {
  // Ids only need to be unique; a read-modify-write under the caller's lock is enough because one
  // service instance owns the namespace.
  STOKE_ASSIGN_OR_RETURN(auto current, store_.Get(kMetaNamespace, "next_id"));
  ExperimentId next = current ? std::stoll(*current) : 1;
  STOKE_RETURN_IF_ERROR(store_.Put(kMetaNamespace, "next_id", std::to_string(next + 1)));
  return next;
}

Status ExperimentStore::Save(const Experiment& e) { return store_.Put(kNamespace, Key(e.id), Encode(e)); }

Result<std::optional<Experiment>> ExperimentStore::Load(ExperimentId id) {
  STOKE_ASSIGN_OR_RETURN(auto text, store_.Get(kNamespace, Key(id)));
  if (!text) return std::optional<Experiment>();
  STOKE_ASSIGN_OR_RETURN(Experiment e, Decode(*text));
  return std::optional<Experiment>(std::move(e));
}

Result<std::vector<Experiment>> ExperimentStore::LoadAll() {
  STOKE_ASSIGN_OR_RETURN(auto rows, store_.List(kNamespace));
  std::vector<Experiment> out;
  for (const auto& [key, text] : rows) {
    STOKE_ASSIGN_OR_RETURN(Experiment e, Decode(text));
    out.push_back(std::move(e));
  }
  return out;
}

Status ExperimentStore::Erase(ExperimentId id) { return store_.Erase(kNamespace, Key(id)); }

}  // namespace stoke::service
