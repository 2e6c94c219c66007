// Stoke side of the HPO benchmark (bench/hpo/run.sh runs it next to optuna_bench.py).
// Prints one JSON object per line; report.py turns both sides' lines into tables.
//
//   hpo_bench quality     [--seeds N] [--trials N] [--gp-trials N]
//   hpo_bench fidelity    [--seeds N] [--parallel P]
//   hpo_bench overhead    [--repeats K]
//
// Objectives and the learning-curve simulator are defined identically in optuna_bench.py.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hpo/searcher.h"
#include "hpo/tests/script_world.h"  // Branin, Hartmann6 and GetNum, shared with the tests

namespace {

using namespace stoke::hpo;

using testing::GetNum;

struct Objective {
  std::string name;
  SearchSpace space;
  std::function<double(const ParamSample&)> f;
};

SearchSpace Box(const std::string& prefix, int dims, double low, double high) {
  SearchSpace s;
  for (int i = 0; i < dims; ++i) s.params.push_back(ParamSpec::Float(prefix + std::to_string(i), low, high));
  return s;
}

std::vector<Objective> Objectives() {
  std::vector<Objective> out;
  out.push_back({"branin", SearchSpace{{ParamSpec::Float("x0", -5, 10), ParamSpec::Float("x1", 0, 15)}},
                 [](const ParamSample& p) { return testing::Branin(GetNum(p, "x0"), GetNum(p, "x1")); }});
  out.push_back({"hartmann6", Box("x", 6, 0, 1), [](const ParamSample& p) {
                   double x[6];
                   for (int j = 0; j < 6; ++j) x[j] = GetNum(p, "x" + std::to_string(j));
                   return testing::Hartmann6(x);
                 }});
  out.push_back({"sphere20", Box("x", 20, -5, 5), [](const ParamSample& p) {
                   double s = 0;
                   for (int i = 0; i < 20; ++i) s += std::pow(GetNum(p, "x" + std::to_string(i)), 2);
                   return s;
                 }});
  out.push_back({"rosenbrock20", Box("x", 20, -2, 2), [](const ParamSample& p) {
                   double s = 0;
                   for (int i = 0; i < 19; ++i) {
                     const double x = GetNum(p, "x" + std::to_string(i)), y = GetNum(p, "x" + std::to_string(i + 1));
                     s += 100 * std::pow(y - x * x, 2) + std::pow(1 - x, 2);
                   }
                   return s;
                 }});
  return out;
}

// ---- learning-curve simulator (multi-fidelity) ----
// Final loss depends on lr, width, dropout and optimizer; the curve decays like 1/sqrt(resource)
// from a height that shrinks with lr, so good-but-slow configurations look worse early on (curves
// cross when final losses are close).
constexpr int64_t kMaxResource = 81;

SearchSpace CurveSpace() {
  return SearchSpace{{ParamSpec::Float("lr", 1e-4, 1, Scale::kLog), ParamSpec::Int("width", 16, 1024, Scale::kLog),
                      ParamSpec::Float("dropout", 0, 0.7),
                      ParamSpec::Categorical("optimizer", {"sgd", "adam", "rmsprop"})}};
}

double CurveLoss(const ParamSample& p, int64_t r) {
  const double lr = GetNum(p, "lr"), width = GetNum(p, "width"), dropout = GetNum(p, "dropout");
  const std::string& opt = std::get<std::string>(p.at("optimizer"));
  const double opt_cost = opt == "adam" ? 0.0 : opt == "rmsprop" ? 0.05 : 0.1;
  const double final_loss = 0.1 + 0.5 * std::pow(std::log10(lr) + 2.5, 2) / 4 +
                            0.3 * std::pow(std::log2(width) - 8, 2) / 16 + 0.4 * std::pow(dropout - 0.2, 2) + opt_cost;
  const double slowness = 0.5 + 0.5 * (1.0 - std::sqrt(lr));  // small learning rates start slower
  return final_loss + slowness / std::sqrt(static_cast<double>(r));
}

// CPU time of this thread in ms: robust to other processes sharing the cores (both sides use it).
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int Arg(int argc, char** argv, const char* name, int fallback) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

void Die(const stoke::Status& st) {
  std::fprintf(stderr, "error: %s\n", st.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Must(stoke::Result<T> r) {
  if (!r) Die(r.error());
  return std::move(*r);
}

SamplerKind ParseSampler(const std::string& s) {
  if (s == "random") return SamplerKind::kRandom;
  if (s == "gp") return SamplerKind::kGp;
  return SamplerKind::kTpe;
}

// Sequential optimization through the full Searcher interface; best value after each trial.
std::vector<double> RunSequential(const Objective& obj, const std::string& sampler, uint64_t seed, int trials) {
  ExperimentConfig c;
  c.space = obj.space;
  c.seed = seed;
  c.sampler = ParseSampler(sampler);
  c.budget.max_trials = trials;
  c.budget.max_parallel = 1;
  auto searcher = Must(Searcher::Create(c));
  std::vector<Action> actions = Must(searcher->Start());
  std::vector<double> best;
  double b = INFINITY;
  while (!actions.empty()) {
    const Action a = actions.front();
    if (!std::holds_alternative<CreateTrial>(a)) break;
    const auto& ct = std::get<CreateTrial>(a);
    const double v = obj.f(ct.params);
    b = std::min(b, v);
    best.push_back(b);
    Must(searcher->OnEvent(ValidationReported{ct.trial, 1, v}));
    actions = Must(searcher->OnEvent(TrialExited{ct.trial, ExitReason::kCompleted}));
  }
  return best;
}

void Quality(int argc, char** argv) {
  const int seeds = Arg(argc, argv, "--seeds", 10);
  const int trials = Arg(argc, argv, "--trials", 200);
  const int gp_trials = Arg(argc, argv, "--gp-trials", 50);
  for (const Objective& obj : Objectives()) {
    for (const std::string sampler : {"tpe", "random", "gp"}) {
      const int n = sampler == "gp" ? gp_trials : trials;
      if (n <= 0) continue;
      for (int seed = 0; seed < seeds; ++seed) {
        const auto t0 = std::chrono::steady_clock::now();
        const std::vector<double> best = RunSequential(obj, sampler, static_cast<uint64_t>(seed), n);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf(
            "{\"bench\":\"quality\",\"impl\":\"stoke\",\"objective\":\"%s\",\"sampler\":\"%s\",\"seed\":%d,"
            "\"best_50\":%.10g,\"best_200\":%.10g,\"seconds\":%.4f}\n",
            obj.name.c_str(), sampler.c_str(), seed, best[std::min<size_t>(49, best.size() - 1)],
            best.size() >= 200 ? best[199] : NAN, secs);
        std::fflush(stdout);
      }
    }
  }
}

// Simulated cluster with `parallel` workers; a tick trains every running trial one resource unit.
// Returns the tick at which some trial first reported a loss <= target (or the cap).
struct FidelityResult {
  int64_t time = 0;
  int64_t resource = 0;  // resource units consumed until then
  bool reached = false;
  int trials = 0;
};

FidelityResult RunFidelity(MethodKind method, const std::string& sampler, uint64_t seed, int parallel, double target,
                           int64_t cap) {
  ExperimentConfig c;
  c.space = CurveSpace();
  c.seed = seed;
  c.sampler = ParseSampler(sampler);
  c.method = method;
  c.budget.max_trials = 100000;
  c.budget.max_parallel = parallel;
  c.budget.max_resource = kMaxResource;
  c.halving = {1, kMaxResource, 3, 1};
  auto searcher = Must(Searcher::Create(c));
  struct Running {
    ParamSample params;
    int64_t progress = 0;
  };
  std::map<TrialId, Running> running;
  std::vector<Action> pending = Must(searcher->Start());
  FidelityResult out;
  for (int64_t t = 1; t <= cap; ++t) {
    // Apply actions (they may cascade: an exit creates a trial).
    while (!pending.empty()) {
      std::vector<Action> next;
      for (const Action& a : pending) {
        if (const auto* ct = std::get_if<CreateTrial>(&a)) {
          running[ct->trial] = Running{ct->params, 0};
          ++out.trials;
        } else if (const auto* st = std::get_if<StopTrial>(&a)) {
          if (running.erase(st->trial)) {
            auto more = Must(searcher->OnEvent(TrialExited{st->trial, ExitReason::kPruned}));
            next.insert(next.end(), more.begin(), more.end());
          }
        }
      }
      pending = std::move(next);
    }
    std::vector<TrialId> ids;
    for (const auto& [id, r] : running) ids.push_back(id);
    for (TrialId id : ids) {
      auto it = running.find(id);
      if (it == running.end()) continue;
      const int64_t r = ++it->second.progress;
      ++out.resource;
      const double loss = CurveLoss(it->second.params, r);
      if (loss <= target) {
        out.time = t;
        out.reached = true;
        return out;
      }
      auto acts = Must(searcher->OnEvent(ValidationReported{id, r, loss}));
      pending.insert(pending.end(), acts.begin(), acts.end());
      if (r >= kMaxResource) {
        running.erase(id);
        auto more = Must(searcher->OnEvent(TrialExited{id, ExitReason::kCompleted}));
        pending.insert(pending.end(), more.begin(), more.end());
      }
    }
  }
  out.time = cap;
  return out;
}

void Fidelity(int argc, char** argv) {
  const int seeds = Arg(argc, argv, "--seeds", 10);
  const int parallel = Arg(argc, argv, "--parallel", 4);
  const double target = 0.26;
  const int64_t cap = 3000;
  const std::pair<const char*, MethodKind> methods[] = {
      {"none", MethodKind::kSingleFidelity}, {"asha", MethodKind::kAsha}, {"hyperband", MethodKind::kHyperband}};
  for (const auto& [name, kind] : methods) {
    for (const std::string sampler : {"random", "tpe"}) {
      for (int seed = 0; seed < seeds; ++seed) {
        const FidelityResult r = RunFidelity(kind, sampler, static_cast<uint64_t>(seed), parallel, target, cap);
        std::printf(
            "{\"bench\":\"fidelity\",\"impl\":\"stoke\",\"pruner\":\"%s\",\"sampler\":\"%s\",\"seed\":%d,"
            "\"parallel\":%d,\"target\":%g,\"time\":%lld,\"resource\":%lld,\"reached\":%s,\"trials\":%d}\n",
            name, sampler.c_str(), seed, parallel, target, static_cast<long long>(r.time),
            static_cast<long long>(r.resource), r.reached ? "true" : "false", r.trials);
        std::fflush(stdout);
      }
    }
  }
}

// Time per suggestion with `history` finished trials: TPE (default options) through the Searcher,
// measured around the OnEvent(TrialExited) call that produces the next CreateTrial.
void Overhead(int argc, char** argv) {
  const int repeats = Arg(argc, argv, "--repeats", 30);
  for (int dims : {2, 20}) {
    for (int history : {100, 1000}) {
      ExperimentConfig c;
      c.space = Box("x", dims, -5, 5);
      c.seed = 1;
      c.sampler = SamplerKind::kTpe;
      c.tpe.n_startup_trials = history;  // the first `history` trials are random, like Optuna's prefill
      c.budget.max_trials = history + repeats + 1;
      c.budget.max_parallel = 1;
      auto searcher = Must(Searcher::Create(c));
      std::vector<Action> actions = Must(searcher->Start());
      std::vector<double> times, cpu_times;
      for (int i = 0; i < history + repeats; ++i) {
        const auto& ct = std::get<CreateTrial>(actions.front());
        double v = 0;
        for (const auto& [name, value] : ct.params) v += std::pow(std::get<double>(value), 2);
        Must(searcher->OnEvent(ValidationReported{ct.trial, 1, v}));
        const double c0 = ThreadCpuMs();
        const auto t0 = std::chrono::steady_clock::now();
        actions = Must(searcher->OnEvent(TrialExited{ct.trial, ExitReason::kCompleted}));
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        const double cpu_ms = ThreadCpuMs() - c0;
        if (i >= history) {
          times.push_back(ms);
          cpu_times.push_back(cpu_ms);
        }
      }
      std::printf(
          "{\"bench\":\"overhead\",\"impl\":\"stoke\",\"sampler\":\"tpe\",\"dims\":%d,\"history\":%d,"
          "\"ms_median\":%.5f,\"cpu_ms_median\":%.5f}\n",
          dims, history, Median(times), Median(cpu_times));
      std::fflush(stdout);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "quality") {
    Quality(argc, argv);
  } else if (mode == "fidelity") {
    Fidelity(argc, argv);
  } else if (mode == "overhead") {
    Overhead(argc, argv);
  } else {
    std::fprintf(stderr, "usage: hpo_bench quality|fidelity|overhead [--seeds N] [--trials N] ...\n");
    return 2;
  }
  return 0;
}
