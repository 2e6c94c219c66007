#include "service/experiment_service.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "service/job_files.h"

namespace stoke::service {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kTickMs = 200;
constexpr int kStopGraceS = 5;

bool TrialActive(const Trial& t) { return t.state == TrialState::kPending || t.state == TrialState::kRunning; }

std::string EnvName(const std::string& param) {
  std::string out = "STOKE_HP_";
  for (char c : param) out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  return out;
}

json ParamValueJson(const hpo::ParamValue& v) {
  return std::visit([](const auto& x) { return json(x); }, v);
}

// Records the trials the search asked for (new ones, or a retry of a known one) before acting on
// them, so a crash between the save and the submit is recoverable.
void RecordPlannedTrials(Experiment& e, const std::vector<hpo::Action>& actions, UnixMillis now) {
  for (const auto& a : actions) {
    const auto* c = std::get_if<hpo::CreateTrial>(&a);
    if (c == nullptr) continue;
    auto it = std::find_if(e.trials.begin(), e.trials.end(), [&](const Trial& t) { return t.id == c->trial; });
    if (it == e.trials.end()) {
      Trial t;
      t.id = c->trial;
      t.params = c->params;
      t.max_resource = c->max_resource;
      t.created_at = now;
      e.trials.push_back(std::move(t));
      it = std::prev(e.trials.end());
    } else if (it->job != 0) {
      it->previous_jobs.push_back(it->job);  // a retry: keep the failed attempt's job
    }
    it->attempt = c->attempt;
    it->job = 0;
    it->state = TrialState::kPending;
    it->stop_requested = false;
    it->finished_at = 0;
    it->reason = c->attempt > 0 ? "retry " + std::to_string(c->attempt) : "";
  }
}

}  // namespace

std::string SubstitutePlaceholders(const std::string& arg, const hpo::ParamSample& params) {
  std::string out = arg;
  for (const auto& [name, value] : params) {
    std::string key = "{" + name + "}";
    std::string text = hpo::ParamValueToString(value);
    size_t pos = 0;
    while ((pos = out.find(key, pos)) != std::string::npos) {
      out.replace(pos, key.size(), text);
      pos += text.size();
    }
  }
  return out;
}

std::string SubstituteTrainValues(const std::string& train_json, const hpo::ParamSample& params) {
  json train = json::parse(train_json, nullptr, /*allow_exceptions=*/false);
  if (!train.is_object()) return train_json;
  for (auto& [key, value] : train.items()) {
    if (!value.is_string()) continue;
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() < 3 || text.front() != '{' || text.back() != '}') continue;
    auto it = params.find(text.substr(1, text.size() - 2));
    if (it != params.end()) value = ParamValueJson(it->second);
  }
  return train.dump();
}

ExperimentService::ExperimentService(Deps deps, std::string data_dir)
    : deps_(std::move(deps)), data_dir_(std::move(data_dir)), records_(deps_.store) {}

ExperimentService::~ExperimentService() { Stop(); }

Status ExperimentService::Start() {
  STOKE_ASSIGN_OR_RETURN(auto all, records_.LoadAll());
  int resumed = 0;
  {
    std::lock_guard lock(mu_);
    for (Experiment& e : all) {
      auto parsed = deps_.parse(e.spec.spec_json);
      if (!parsed) {
        spdlog::error("experiment {}: stored spec no longer parses: {}", e.id, parsed.error().ToString());
        e.state = ExperimentState::kFailed;
        e.reason = "stored spec no longer valid: " + parsed.error().message();
      } else {
        e.spec = std::move(*parsed);
      }
      if (e.state == ExperimentState::kRunning) ++resumed;
      ExperimentId id = e.id;
      entries_[id] = Entry{std::move(e), nullptr};
    }
  }
  spdlog::info("experiments: {} loaded, {} running resumed", all.size(), resumed);
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void ExperimentService::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ExperimentService::Loop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(kTickMs), [&] { return stop_; });
      if (stop_) return;
    }
    TickAll();
  }
}

void ExperimentService::TickAll() {
  std::lock_guard lock(mu_);
  for (auto& [id, entry] : entries_) {
    if (entry.exp.state != ExperimentState::kRunning) continue;
    if (Status s = Tick(entry); !s.ok()) {
      spdlog::error("experiment {}: {}", id, s.ToString());
    }
  }
}

Result<Experiment> ExperimentService::Create(const Principal& who, ExperimentSpec spec,
                                             const std::optional<std::string>& code_archive) {
  if (who.job_scope != 0) return Err(Status::PermissionDenied("a job token cannot create experiments"));
  STOKE_RETURN_IF_ERROR(hpo::Validate(spec.config));
  STOKE_RETURN_IF_ERROR(deps_.jobs.CheckFitsPool(spec.trial.resources).WithFieldPrefix("trial"));
  std::lock_guard lock(mu_);
  STOKE_ASSIGN_OR_RETURN(ExperimentId id, records_.NextId());
  Experiment e;
  e.id = id;
  e.user = who.user;
  e.spec = std::move(spec);
  e.created_at = deps_.clock.NowMillis();
  if (code_archive) {
    std::string dir = data_dir_ + "/experiments/" + std::to_string(id);
    std::error_code ec;
    fs::create_directories(dir, ec);
    e.code_archive = dir + "/code.archive";
    std::ofstream out(e.code_archive, std::ios::binary);
    out << *code_archive;
    out.flush();
    if (!out) return Err(Status::Internal("cannot store the experiment's code archive"));
  }
  Entry entry{std::move(e), nullptr};
  std::vector<hpo::Action> actions;
  STOKE_RETURN_IF_ERROR(EnsureSearcher(entry, actions));
  STOKE_RETURN_IF_ERROR(Save(entry));  // durable before the answer, with the first trials' plan
  STOKE_RETURN_IF_ERROR(Apply(entry, actions));
  Experiment out = entry.exp;
  entries_[id] = std::move(entry);
  cv_.notify_all();
  return out;
}

Result<ExperimentService::Entry*> ExperimentService::Visible(const Principal& who, ExperimentId id) {
  auto it = entries_.find(id);
  if (it == entries_.end() || who.job_scope != 0 || (!who.admin && it->second.exp.user != who.user)) {
    return Err(Status::NotFound("no experiment " + std::to_string(id)));
  }
  return &it->second;
}

Result<Experiment> ExperimentService::Get(const Principal& who, ExperimentId id) {
  std::lock_guard lock(mu_);
  STOKE_ASSIGN_OR_RETURN(Entry * entry, Visible(who, id));
  return entry->exp;
}

Result<std::vector<Experiment>> ExperimentService::List(const Principal& who) {
  std::lock_guard lock(mu_);
  std::vector<Experiment> out;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (who.job_scope == 0 && (who.admin || it->second.exp.user == who.user)) out.push_back(it->second.exp);
  }
  return out;
}

Result<std::vector<JobId>> ExperimentService::TrialJobs(const Principal& who, ExperimentId id, int64_t trial) {
  std::lock_guard lock(mu_);
  STOKE_ASSIGN_OR_RETURN(Entry * entry, Visible(who, id));
  for (const Trial& t : entry->exp.trials) {
    if (t.id != trial) continue;
    std::vector<JobId> jobs = t.previous_jobs;
    if (t.job != 0) jobs.push_back(t.job);
    return jobs;
  }
  return Err(Status::NotFound("experiment " + std::to_string(id) + " has no trial " + std::to_string(trial)));
}

Result<Experiment> ExperimentService::StopExperiment(const Principal& who, ExperimentId id) {
  std::lock_guard lock(mu_);
  STOKE_ASSIGN_OR_RETURN(Entry * entry, Visible(who, id));
  Experiment& e = entry->exp;
  if (e.state != ExperimentState::kRunning) return e;
  for (Trial& t : e.trials) {
    if (!TrialActive(t)) continue;
    KillTrial(*entry, t);
    t.state = TrialState::kStopped;
    t.reason = "experiment stopped by " + who.user;
  }
  e.state = ExperimentState::kStopped;
  e.reason = "stopped by " + who.user;
  STOKE_RETURN_IF_ERROR(Save(*entry));
  return e;
}

Result<Experiment> ExperimentService::Resume(const Principal& who, ExperimentId id) {
  std::lock_guard lock(mu_);
  STOKE_ASSIGN_OR_RETURN(Entry * entry, Visible(who, id));
  Experiment& e = entry->exp;
  if (e.state == ExperimentState::kRunning) return e;
  if (e.state != ExperimentState::kStopped) {
    return Err(Status::FailedPrecondition("experiment " + std::to_string(id) + " is " +
                                          std::string(ExperimentStateName(e.state)) + "; only STOPPED ones resume"));
  }
  // The search still counts the stopped trials as in flight: re-run them with the same params.
  for (Trial& t : e.trials) {
    if (t.state != TrialState::kStopped) continue;
    if (t.job != 0) t.previous_jobs.push_back(t.job);
    t.job = 0;
    t.state = TrialState::kPending;
    t.reason = "resumed";
  }
  e.state = ExperimentState::kRunning;
  e.reason.clear();
  e.finished_at = 0;
  STOKE_RETURN_IF_ERROR(Save(*entry));
  for (Trial& t : e.trials) {
    if (t.state == TrialState::kPending && t.job == 0) STOKE_RETURN_IF_ERROR(SubmitTrial(*entry, t));
  }
  STOKE_RETURN_IF_ERROR(Save(*entry));
  return e;
}

Status ExperimentService::Delete(const Principal& who, ExperimentId id) {
  std::lock_guard lock(mu_);
  STOKE_ASSIGN_OR_RETURN(Entry * entry, Visible(who, id));
  if (entry->exp.state == ExperimentState::kRunning) {
    return Status::FailedPrecondition("experiment " + std::to_string(id) + " is running; stop it first");
  }
  STOKE_RETURN_IF_ERROR(records_.Erase(id));
  std::error_code ec;
  fs::remove_all(data_dir_ + "/experiments/" + std::to_string(id), ec);
  entries_.erase(id);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------

Status ExperimentService::EnsureSearcher(Entry& entry, std::vector<hpo::Action>& actions) {
  if (entry.searcher) return Status::Ok();
  Experiment& e = entry.exp;
  if (e.searcher_snapshot.empty()) {
    STOKE_ASSIGN_OR_RETURN(entry.searcher, hpo::Searcher::Create(e.spec.config));
    STOKE_ASSIGN_OR_RETURN(actions, entry.searcher->Start());
    // Record the plan (trial records) now; Apply() carries it out after the save.
    RecordPlannedTrials(e, actions, deps_.clock.NowMillis());
    STOKE_ASSIGN_OR_RETURN(e.searcher_snapshot, entry.searcher->Snapshot());
    return Status::Ok();
  }
  STOKE_ASSIGN_OR_RETURN(entry.searcher, hpo::Searcher::Restore(e.spec.config, e.searcher_snapshot));
  return Status::Ok();
}

std::string ExperimentService::TrialJobName(const Experiment& e, const Trial& t) const {
  std::string name = "e" + std::to_string(e.id) + "-t" + std::to_string(t.id) + "-a" + std::to_string(t.attempt) +
                     "-" + e.spec.name;
  if (name.size() > 128) name.resize(128);
  return name;
}

Status ExperimentService::SubmitTrial(Entry& entry, Trial& t) {
  Experiment& e = entry.exp;
  std::string name = TrialJobName(e, t);
  // Adopt a job submitted before a crash that happened before its id was saved.
  store::JobFilter filter;
  filter.user = e.user;
  filter.name = name;
  filter.limit = 10;
  if (auto page = deps_.jobs.List(Owner(e), filter)) {
    for (const Job& j : page->jobs) {
      if (j.spec.name == name) {
        t.job = j.id;
        t.state = TrialState::kRunning;
        return Status::Ok();
      }
    }
  }
  hpo::ParamSample params = t.params;
  if (!e.spec.resource_param.empty() && t.max_resource > 0) {
    params[e.spec.resource_param] = t.max_resource;
  }
  JobSpec spec = e.spec.trial;
  spec.name = name;
  for (auto& arg : spec.argv) arg = SubstitutePlaceholders(arg, params);
  if (spec.type == JobType::kElastic) spec.elastic.train_json = SubstituteTrainValues(spec.elastic.train_json, params);
  json hp = json::object();
  for (const auto& [k, v] : params) {
    hp[k] = ParamValueJson(v);
    spec.env[EnvName(k)] = hpo::ParamValueToString(v);
  }
  spec.env["STOKE_EXPERIMENT_ID"] = std::to_string(e.id);
  spec.env["STOKE_TRIAL_ID"] = std::to_string(t.id);
  spec.hparams_json = hp.dump();
  std::optional<std::string> archive;
  if (!e.code_archive.empty()) archive = e.code_archive;
  auto job = deps_.jobs.Submit(Principal{e.user, false, 0}, std::move(spec), archive);
  if (!job) {
    t.state = TrialState::kFailed;
    t.reason = "could not submit the trial job: " + job.error().message();
    t.finished_at = deps_.clock.NowMillis();
    return Status::Ok();
  }
  t.job = job->id;
  t.state = TrialState::kRunning;
  return Status::Ok();
}

void ExperimentService::KillTrial(const Entry& entry, const Trial& t) {
  if (t.job == 0) return;
  (void)deps_.jobs.Kill(Owner(entry.exp), t.job, kStopGraceS);
}

Status ExperimentService::Apply(Entry& entry, const std::vector<hpo::Action>& actions) {
  Experiment& e = entry.exp;
  for (const auto& a : actions) {
    if (const auto* c = std::get_if<hpo::CreateTrial>(&a)) {
      auto it = std::find_if(e.trials.begin(), e.trials.end(), [&](const Trial& t) { return t.id == c->trial; });
      if (it == e.trials.end()) continue;  // recorded by the caller before the save
      if (it->state == TrialState::kPending && it->job == 0) STOKE_RETURN_IF_ERROR(SubmitTrial(entry, *it));
    } else if (const auto* s = std::get_if<hpo::StopTrial>(&a)) {
      for (Trial& t : e.trials) {
        if (t.id == s->trial && TrialActive(t)) {
          t.stop_requested = true;
          t.reason = s->reason;
          KillTrial(entry, t);
        }
      }
    } else if (const auto* d = std::get_if<hpo::Shutdown>(&a)) {
      e.search_done = true;
      if (d->failure) {
        e.state = ExperimentState::kFailed;
        e.reason = d->reason;
      }
    }
  }
  FinishIfDone(entry);
  return Save(entry);
}

Status ExperimentService::Tick(Entry& entry) {
  Experiment& e = entry.exp;
  std::vector<hpo::Action> actions;
  STOKE_RETURN_IF_ERROR(EnsureSearcher(entry, actions));  // restores the searcher after a restart
  bool changed = !actions.empty();
  UnixMillis now = deps_.clock.NowMillis();

  // Trials recorded but not submitted (a crash in between, or a resume): submit or adopt them.
  for (Trial& t : e.trials) {
    if (t.state == TrialState::kPending && t.job == 0) {
      STOKE_RETURN_IF_ERROR(SubmitTrial(entry, t));
      changed = true;
    }
  }

  for (Trial& t : e.trials) {
    if (t.state != TrialState::kRunning || t.job == 0) continue;
    auto job = deps_.jobs.Get(Owner(e), t.job);
    if (!job) {
      t.state = TrialState::kFailed;
      t.reason = "trial job " + std::to_string(t.job) + " disappeared";
      t.finished_at = now;
      STOKE_ASSIGN_OR_RETURN(auto more, entry.searcher->OnEvent(hpo::TrialExited{t.id, hpo::ExitReason::kFailed}));
      actions.insert(actions.end(), more.begin(), more.end());
      changed = true;
      continue;
    }
    auto series = deps_.jobs.QueryMetrics(Owner(e), t.job, {e.spec.metric}, t.last_step + 1, std::nullopt, 100000);
    if (series && !series->empty()) {
      for (const auto& [step, value] : series->front().points) {
        if (step <= t.last_step) continue;
        t.last_step = step;
        t.value = value;
        if (!t.best_value || (e.spec.maximize ? value > *t.best_value : value < *t.best_value)) t.best_value = value;
        if (t.stop_requested) continue;
        STOKE_ASSIGN_OR_RETURN(auto more, entry.searcher->OnEvent(hpo::ValidationReported{t.id, step, value}));
        actions.insert(actions.end(), more.begin(), more.end());
        changed = true;
      }
    }
    if (!IsTerminal(job->state)) continue;
    hpo::ExitReason reason = hpo::ExitReason::kCompleted;
    if (job->state == JobState::kCompleted && t.value) {
      t.state = TrialState::kCompleted;  // it may have finished before a stop reached it
    } else if (t.stop_requested) {
      reason = hpo::ExitReason::kPruned;
      t.state = TrialState::kPruned;
    } else {
      reason = hpo::ExitReason::kFailed;
      t.state = TrialState::kFailed;
      t.reason = job->state == JobState::kCompleted
                     ? "the trial finished without reporting the objective metric '" + e.spec.metric + "'"
                     : "trial job " + std::to_string(t.job) + " " + std::string(JobStateName(job->state)) +
                           (job->reason.empty() ? "" : ": " + job->reason);
    }
    t.finished_at = now;
    STOKE_ASSIGN_OR_RETURN(auto more, entry.searcher->OnEvent(hpo::TrialExited{t.id, reason}));
    actions.insert(actions.end(), more.begin(), more.end());
    changed = true;
  }

  if (e.spec.max_time_s > 0 && now - e.created_at > e.spec.max_time_s * 1000 && !e.search_done) {
    for (Trial& t : e.trials) {
      if (!TrialActive(t)) continue;
      KillTrial(entry, t);
      t.state = TrialState::kStopped;
      t.reason = "experiment time budget used up";
      t.finished_at = now;
    }
    e.search_done = true;
    e.reason = "time budget of " + std::to_string(e.spec.max_time_s) + " s used up";
    changed = true;
  }

  if (!changed) return Status::Ok();
  RecordPlannedTrials(e, actions, now);
  e.progress = entry.searcher->Progress();
  STOKE_RETURN_IF_ERROR(Save(entry));
  return Apply(entry, actions);
}

void ExperimentService::FinishIfDone(Entry& entry) {
  Experiment& e = entry.exp;
  if (e.state != ExperimentState::kRunning && e.state != ExperimentState::kFailed) return;
  if (!e.search_done) return;
  for (const Trial& t : e.trials) {
    if (TrialActive(t)) return;
  }
  if (e.state == ExperimentState::kRunning) e.state = ExperimentState::kCompleted;
  if (e.finished_at == 0) e.finished_at = deps_.clock.NowMillis();
  e.progress = 1.0;
}

Status ExperimentService::Save(Entry& entry) {
  if (entry.searcher) {
    STOKE_ASSIGN_OR_RETURN(entry.exp.searcher_snapshot, entry.searcher->Snapshot());
    entry.exp.progress = entry.exp.search_done ? entry.exp.progress : entry.searcher->Progress();
  }
  return records_.Save(entry.exp);
}

}  // namespace stoke::service
