#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "service/experiment.h"
#include "service/experiment_store.h"
#include "service/job_service.h"
#include "service/principal.h"

namespace stoke::service {

// Runs hyperparameter-search experiments: each trial is a job; the pure hpo::Searcher decides
// which trials to create and stop from the metrics the trials report. After every step the trial
// table and the searcher snapshot are saved together, and a trial's record is saved before its
// job is submitted, so a restarted server resumes exactly: no trial lost, none run twice.
// Thread-safe; one loop thread drives all experiments.
class ExperimentService {
 public:
  // Re-derives the full spec (with the hpo config) from its stored JSON text.
  using SpecParser = std::function<Result<ExperimentSpec>(std::string_view spec_json)>;
  struct Deps {
    store::Store& store;
    JobService& jobs;
    const Clock& clock;
    SpecParser parse;
  };

  ExperimentService(Deps deps, std::string data_dir);
  ~ExperimentService();

  Status Start();
  void Stop();

  Result<Experiment> Create(const Principal& who, ExperimentSpec spec, const std::optional<std::string>& code_archive);
  Result<Experiment> Get(const Principal& who, ExperimentId id);
  Result<std::vector<Experiment>> List(const Principal& who);
  Result<Experiment> StopExperiment(const Principal& who, ExperimentId id);
  Result<Experiment> Resume(const Principal& who, ExperimentId id);
  Status Delete(const Principal& who, ExperimentId id);
  // The job ids of a trial's attempts, oldest first (for its curve).
  Result<std::vector<JobId>> TrialJobs(const Principal& who, ExperimentId id, int64_t trial);

  // Drives every running experiment one step (the loop calls this; tests may too).
  void TickAll();

 private:
  struct Entry {
    Experiment exp;
    std::unique_ptr<hpo::Searcher> searcher;
  };

  void Loop();
  Status Tick(Entry& entry);
  Status EnsureSearcher(Entry& entry, std::vector<hpo::Action>& actions);
  Status Apply(Entry& entry, const std::vector<hpo::Action>& actions);
  Status SubmitTrial(Entry& entry, Trial& trial);
  void KillTrial(const Entry& entry, const Trial& trial);
  void FinishIfDone(Entry& entry);
  Status Save(Entry& entry);
  Result<Entry*> Visible(const Principal& who, ExperimentId id);
  std::string TrialJobName(const Experiment& e, const Trial& t) const;
  Principal Owner(const Experiment& e) const { return Principal{e.user, true, 0}; }

  Deps deps_;
  std::string data_dir_;
  ExperimentStore records_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<ExperimentId, Entry> entries_;  // GUARDED_BY(mu_)
  std::thread thread_;
};

// Substitutes {name} placeholders in `arg` with the sampled values.
std::string SubstitutePlaceholders(const std::string& arg, const hpo::ParamSample& params);
// An elastic trial's "train" object with each "{name}" value replaced by the parameter's JSON
// value (so the job shows "lr": 0.01, not "lr": "0.01").
std::string SubstituteTrainValues(const std::string& train_json, const hpo::ParamSample& params);

}  // namespace stoke::service
