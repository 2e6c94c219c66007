// Property tests: random snapshots (fixed seeds) must never over-allocate, never start a job below
// its min units, and the EASY reservation must hold in a multi-cycle simulation.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sched/scheduler.h"

namespace stoke::sched {
namespace {

constexpr UnixMillis kNow = 1'700'000'000'000;
constexpr int64_t kMiB = int64_t{1} << 20;

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

// Random slots from the free lists; nullopt when the unit does not fit.
std::optional<Allocation> RandomUnit(Gen& gen, const Resources& r, std::vector<int>& free_cpus, std::vector<int>& free_gpus) {
  if (r.cpus > static_cast<int>(free_cpus.size()) || r.gpus > static_cast<int>(free_gpus.size())) return std::nullopt;
  std::shuffle(free_cpus.begin(), free_cpus.end(), gen.rng());
  std::shuffle(free_gpus.begin(), free_gpus.end(), gen.rng());
  Allocation unit;
  unit.cpus.assign(free_cpus.end() - r.cpus, free_cpus.end());
  unit.gpus.assign(free_gpus.end() - r.gpus, free_gpus.end());
  free_cpus.resize(free_cpus.size() - static_cast<size_t>(r.cpus));
  free_gpus.resize(free_gpus.size() - static_cast<size_t>(r.gpus));
  return unit;
}

SchedulingInput RandomInput(Gen& gen) {
  SchedulingInput in;
  in.now = kNow;
  in.pool.cpu_slots = gen.Int(0, 16);
  std::vector<int> ids(16);
  for (int i = 0; i < 16; ++i) ids[i] = i;
  std::shuffle(ids.begin(), ids.end(), gen.rng());
  in.pool.gpus.assign(ids.begin(), ids.begin() + gen.Int(0, 8));
  in.pool.memory_bytes = gen.Chance(0.5) ? gen.Int(1, 64) * 256 * kMiB : 0;
  in.policy = Policy{.preempt_lower_priority = gen.Chance(0.5), .backfill = gen.Chance(0.8), .fair_share = gen.Chance(0.8)};
  const char* users[] = {"a", "b", "c"};

  std::vector<int> free_cpus;
  for (int i = 0; i < in.pool.cpu_slots; ++i) free_cpus.push_back(i);
  std::vector<int> free_gpus = in.pool.gpus;
  int64_t free_memory = in.pool.memory_bytes;
  JobId next_id = 1;
  const int running = gen.Int(0, 6);
  for (int i = 0; i < running; ++i) {
    RunningJob job;
    job.id = next_id++;
    job.user = users[gen.Int(0, 2)];
    job.priority = gen.Int(0, 3);
    job.per_unit = Resources{.gpus = gen.Int(0, 2), .cpus = gen.Int(0, 3), .memory_bytes = gen.Int(0, 8) * 256 * kMiB};
    job.min_units = gen.Int(1, 2);
    job.max_units = gen.Chance(0.4) ? job.min_units + gen.Int(1, 3) : job.min_units;
    job.started_at = kNow - gen.Int(0, 100000);
    job.expected_end = gen.Chance(0.5) ? kNow + gen.Int(-1000, 7'200'000) : 0;
    job.stopping = gen.Chance(0.1);
    const int units = gen.Int(job.min_units, job.max_units);
    for (int u = 0; u < units; ++u) {
      const int64_t memory = in.pool.memory_bytes > 0 ? job.per_unit.memory_bytes : 0;
      if (memory > free_memory) break;
      std::optional<Allocation> unit = RandomUnit(gen, job.per_unit, free_cpus, free_gpus);
      if (!unit) break;
      free_memory -= memory;
      job.units.push_back(std::move(*unit));
    }
    if (!job.units.empty()) in.running.push_back(std::move(job));
  }
  const int pending = gen.Int(0, 8);
  for (int i = 0; i < pending; ++i) {
    PendingJob job;
    job.id = next_id++;
    job.user = users[gen.Int(0, 2)];
    job.priority = gen.Int(0, 3);
    job.seq = gen.Int(0, 1000);
    job.per_unit = Resources{.gpus = gen.Int(0, 2), .cpus = gen.Int(0, 3), .memory_bytes = gen.Int(0, 8) * 256 * kMiB};
    job.min_units = gen.Int(1, 3);
    job.max_units = gen.Chance(0.4) ? job.min_units + gen.Int(1, 3) : job.min_units;
    job.max_runtime_s = gen.Chance(0.5) ? gen.Int(1, 7200) : 0;
    in.queue.push_back(std::move(job));
  }
  return in;
}

// Checks every invariant the Decision contract promises, for one input.
void CheckDecision(const SchedulingInput& in, const Decision& d) {
  std::map<JobId, const RunningJob*> running;
  for (const auto& job : in.running) running[job.id] = &job;
  std::map<JobId, const PendingJob*> pending;
  for (const auto& job : in.queue) pending[job.id] = &job;
  const bool memory_accounted = in.pool.memory_bytes > 0;
  const std::set<int> pool_gpus(in.pool.gpus.begin(), in.pool.gpus.end());

  std::set<int> cpus_held, gpus_held;
  int64_t memory_held = 0;
  auto hold = [&](const Allocation& unit, int64_t memory, const std::string& what) {
    for (int c : unit.cpus) {
      ASSERT_TRUE(c >= 0 && c < in.pool.cpu_slots) << what << " cpu " << c;
      ASSERT_TRUE(cpus_held.insert(c).second) << what << " reuses cpu " << c;
    }
    for (int g : unit.gpus) {
      ASSERT_TRUE(pool_gpus.contains(g)) << what << " gpu " << g;
      ASSERT_TRUE(gpus_held.insert(g).second) << what << " reuses gpu " << g;
    }
    if (memory_accounted) memory_held += memory;
  };
  auto shaped = [](const Allocation& unit, const Resources& r) {
    return static_cast<int>(unit.cpus.size()) == r.cpus && static_cast<int>(unit.gpus.size()) == r.gpus;
  };

  // What running jobs keep after the removals.
  std::map<JobId, const Resize*> resizes;
  for (const Resize& r : d.resize) {
    ASSERT_TRUE(running.contains(r.id)) << "resize of unknown job " << r.id;
    ASSERT_TRUE(resizes.emplace(r.id, &r).second) << "two resizes for job " << r.id;
    ASSERT_TRUE(r.add.empty() || r.remove_units.empty()) << "job " << r.id << " grows and shrinks";
    ASSERT_FALSE(r.add.empty() && r.remove_units.empty());
  }
  for (const auto& [id, job] : running) {
    const Resize* r = resizes.contains(id) ? resizes.at(id) : nullptr;
    std::set<int> removed;
    if (r != nullptr) {
      for (int u : r->remove_units) {
        ASSERT_TRUE(u >= 0 && u < static_cast<int>(job->units.size()));
        ASSERT_TRUE(removed.insert(u).second);
      }
      ASSERT_TRUE(std::is_sorted(r->remove_units.rbegin(), r->remove_units.rend()));
      if (!removed.empty()) {
        // Newest units go first: what is removed is a suffix, and min_units stay.
        ASSERT_EQ(*removed.begin(), static_cast<int>(job->units.size() - removed.size()));
        ASSERT_GE(static_cast<int>(job->units.size() - removed.size()), job->min_units);
        ASSERT_GT(job->max_units, job->min_units) << "shrunk a non-elastic job";
        ASSERT_FALSE(job->stopping);
      }
    }
    for (size_t u = 0; u < job->units.size(); ++u) {
      if (!removed.contains(static_cast<int>(u))) hold(job->units[u], job->per_unit.memory_bytes, "running");
    }
  }
  // New units: starts and grows.
  std::set<JobId> started;
  for (const Placement& p : d.start) {
    ASSERT_TRUE(pending.contains(p.id)) << "started unknown job " << p.id;
    ASSERT_TRUE(started.insert(p.id).second) << "started twice " << p.id;
    const PendingJob& job = *pending.at(p.id);
    ASSERT_GE(static_cast<int>(p.units.size()), job.min_units) << "job " << p.id << " below min units";
    ASSERT_LE(static_cast<int>(p.units.size()), std::max(job.min_units, job.max_units));
    for (const Allocation& unit : p.units) {
      ASSERT_TRUE(shaped(unit, job.per_unit)) << "job " << p.id << " unit shape";
      hold(unit, job.per_unit.memory_bytes, "start " + std::to_string(p.id));
    }
  }
  for (const Resize& r : d.resize) {
    const RunningJob& job = *running.at(r.id);
    if (r.add.empty()) continue;
    ASSERT_FALSE(job.stopping);
    ASSERT_LE(job.units.size() + r.add.size(), static_cast<size_t>(job.max_units));
    for (const Allocation& unit : r.add) {
      ASSERT_TRUE(shaped(unit, job.per_unit));
      hold(unit, job.per_unit.memory_bytes, "grow " + std::to_string(r.id));
    }
  }
  if (memory_accounted) {
    ASSERT_LE(memory_held, in.pool.memory_bytes);
  }

  // Preemption only when allowed, only of lower priority than some waiting job.
  int top_waiting = std::numeric_limits<int>::min();
  for (const auto& [id, job] : pending) {
    if (!started.contains(id)) top_waiting = std::max(top_waiting, job->priority);
  }
  for (JobId id : d.preempt) {
    ASSERT_TRUE(in.policy.preempt_lower_priority);
    ASSERT_TRUE(running.contains(id));
    ASSERT_FALSE(running.at(id)->stopping);
    ASSERT_LT(running.at(id)->priority, top_waiting);
    if (resizes.contains(id)) {
      ASSERT_TRUE(resizes.at(id)->add.empty()) << "job " << id << " preempted and grown";
    }
  }
  // Every pending job either starts or says why not.
  for (const auto& [id, job] : pending) {
    ASSERT_NE(started.contains(id), d.waiting_reason.contains(id)) << "job " << id;
    if (d.waiting_reason.contains(id)) {
      ASSERT_FALSE(d.waiting_reason.at(id).empty());
    }
  }
  ASSERT_EQ(d.waiting_reason.size(), pending.size() - started.size());
}

TEST(SchedulePropertyTest, RandomSnapshotsKeepEveryInvariant) {
  Gen gen(0x5eed5c4ed);
  int with_starts = 0, with_resizes = 0, with_preempts = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    SchedulingInput in = RandomInput(gen);
    ASSERT_TRUE(ValidateInput(in).ok()) << "generator bug at " << iteration;
    Result<Decision> d = Schedule(in);
    ASSERT_TRUE(d.has_value()) << d.error().ToString();
    SCOPED_TRACE("iteration " + std::to_string(iteration) + "\n" + ToString(*d));
    CheckDecision(in, *d);
    if (::testing::Test::HasFatalFailure()) return;
    with_starts += !d->start.empty();
    with_resizes += !d->resize.empty();
    with_preempts += !d->preempt.empty();
    if (iteration % 10 == 0) {
      SchedulingInput shuffled = in;
      std::shuffle(shuffled.running.begin(), shuffled.running.end(), gen.rng());
      std::shuffle(shuffled.queue.begin(), shuffled.queue.end(), gen.rng());
      ASSERT_EQ(*Schedule(shuffled), *d) << "input order changed the decision";
    }
  }
  // The generator must exercise every kind of action, or the invariants above prove little.
  EXPECT_GT(with_starts, 2000);
  EXPECT_GT(with_resizes, 500);
  EXPECT_GT(with_preempts, 100);
}

// The input in words, for failure messages.
std::string Describe(const SchedulingInput& in) {
  auto units = [](const std::vector<Allocation>& us) {
    Decision d;
    d.start.push_back(Placement{0, us});
    std::string text = ToString(d);
    return text.substr(std::string("start 0 ").size(), text.size() - std::string("start 0 ").size() - 1);
  };
  std::string out = "pool cpus=" + std::to_string(in.pool.cpu_slots) + " gpus=" + std::to_string(in.pool.gpus.size()) +
                    " mem=" + std::to_string(in.pool.memory_bytes) + " preempt=" + std::to_string(in.policy.preempt_lower_priority) +
                    " backfill=" + std::to_string(in.policy.backfill) + " fair=" + std::to_string(in.policy.fair_share) + "\n";
  for (const RunningJob& j : in.running) {
    out += "running " + std::to_string(j.id) + " user=" + j.user + " prio=" + std::to_string(j.priority) +
           " unit=" + std::to_string(j.per_unit.gpus) + "g" + std::to_string(j.per_unit.cpus) + "c units=" +
           std::to_string(j.min_units) + ".." + std::to_string(j.max_units) + " end=" + std::to_string(j.expected_end) +
           (j.stopping ? " stopping " : " ") + units(j.units) + "\n";
  }
  for (const PendingJob& j : in.queue) {
    out += "pending " + std::to_string(j.id) + " user=" + j.user + " prio=" + std::to_string(j.priority) +
           " seq=" + std::to_string(j.seq) + " unit=" + std::to_string(j.per_unit.gpus) + "g" +
           std::to_string(j.per_unit.cpus) + "c units=" + std::to_string(j.min_units) + ".." +
           std::to_string(j.max_units) + " runtime=" + std::to_string(j.max_runtime_s) + "\n";
  }
  return out;
}

// The snapshot the service would report after applying `d` in full (resizes done, preempted jobs
// still stopping, started jobs running).
SchedulingInput Apply(const SchedulingInput& in, const Decision& d) {
  SchedulingInput next = in;
  for (RunningJob& job : next.running) {
    for (const Resize& r : d.resize) {
      if (r.id != job.id) continue;
      for (int u : r.remove_units) job.units.erase(job.units.begin() + u);  // highest first
      job.units.insert(job.units.end(), r.add.begin(), r.add.end());
    }
    if (std::find(d.preempt.begin(), d.preempt.end(), job.id) != d.preempt.end()) job.stopping = true;
  }
  for (const Placement& p : d.start) {
    auto it = std::find_if(next.queue.begin(), next.queue.end(), [&](const PendingJob& j) { return j.id == p.id; });
    RunningJob job{.id = it->id, .user = it->user, .priority = it->priority, .per_unit = it->per_unit, .units = p.units};
    job.min_units = it->min_units;
    job.max_units = std::max(it->min_units, it->max_units);
    job.started_at = in.now;
    job.expected_end = it->max_runtime_s > 0 ? in.now + it->max_runtime_s * 1000 : 0;
    next.running.push_back(std::move(job));
    next.queue.erase(it);
  }
  return next;
}

// Applying a decision and scheduling again at the same instant never takes back what was just
// given: no unit added or job started by the first decision is removed or preempted by the second
// (no rescale ping-pong). Without fair share the queue order is static and the second decision must
// be empty; with it, the order follows shares the first decision changed, so the second may start
// or grow more, but only that.
TEST(SchedulePropertyTest, AppliedDecisionIsStable) {
  Gen gen(0xf1c5);
  int changed_inputs = 0;
  int take_backs = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    SchedulingInput in = RandomInput(gen);
    Result<Decision> first = Schedule(in);
    ASSERT_TRUE(first.has_value());
    if (first->start.empty() && first->resize.empty() && first->preempt.empty()) continue;
    ++changed_inputs;
    SchedulingInput next = Apply(in, *first);
    ASSERT_TRUE(ValidateInput(next).ok()) << ValidateInput(next).ToString();
    Result<Decision> second = Schedule(next);
    ASSERT_TRUE(second.has_value());
    const std::string trace =
        "iteration " + std::to_string(iteration) + "\n" + Describe(in) + "first:\n" + ToString(*first) + "second:\n" + ToString(*second);
    if (!in.policy.fair_share) {
      ASSERT_TRUE(second->start.empty() && second->resize.empty() && second->preempt.empty()) << trace;
      continue;
    }
    // Units given by the first decision: whole started jobs, and grown units (appended last).
    std::map<JobId, size_t> first_given_from;  // unit index from which units are new
    for (const Placement& p : first->start) first_given_from[p.id] = 0;
    for (const RunningJob& job : next.running) {
      for (const Resize& r : first->resize) {
        if (r.id == job.id && !r.add.empty()) first_given_from[job.id] = job.units.size() - r.add.size();
      }
    }
    bool took_back = false;
    for (JobId id : second->preempt) took_back |= first_given_from.contains(id);
    for (const Resize& r : second->resize) {
      if (!first_given_from.contains(r.id)) continue;
      for (int u : r.remove_units) took_back |= static_cast<size_t>(u) >= first_given_from[r.id];
    }
    if (took_back) ++take_backs;
  }
  EXPECT_GT(changed_inputs, 5000);
  std::printf("fair-share take-backs: %d of %d changed snapshots\n", take_backs, changed_inputs);
  // Known limit: with fair share the queue order follows shares that the first decision moved, so
  // a job that was not first can become the head and reclaim a unit just granted. Guards make it
  // rare; this bound catches a regression.
  EXPECT_LE(take_backs * 200, changed_inputs);
}

// Multi-cycle simulation with exact runtimes: once a job holds the reservation with a known
// start_by, backfilled jobs never make it start later than that (the EASY guarantee).
TEST(SchedulePropertyTest, BackfillNeverDelaysTheReservedHead) {
  Gen gen(424242);
  int reservations_checked = 0;
  for (int world = 0; world < 300; ++world) {
    SchedulingInput in;
    in.pool = Pool{.cpu_slots = gen.Int(4, 12), .gpus = {0, 1, 2, 3}, .memory_bytes = 0};
    in.policy = Policy{.fair_share = false};  // a static queue order keeps one head until it starts
    std::map<JobId, int64_t> runtime_s;
    for (JobId id = 1; id <= 25; ++id) {
      PendingJob job{.id = id, .user = "u", .priority = gen.Int(0, 2), .seq = id,
                     .per_unit = Resources{.gpus = gen.Int(0, 4), .cpus = gen.Int(1, 4)}};
      runtime_s[id] = gen.Int(1, 100);
      // Most jobs declare their exact runtime; the rest are unknown to the scheduler.
      job.max_runtime_s = gen.Chance(0.8) ? runtime_s[id] : 0;
      in.queue.push_back(job);
    }
    std::map<JobId, UnixMillis> promised;  // first known start_by per head
    std::map<JobId, UnixMillis> end_at;
    UnixMillis now = 0;
    for (int cycle = 0; cycle < 500 && !in.queue.empty(); ++cycle) {
      in.now = now;
      Result<Decision> d = Schedule(in);
      ASSERT_TRUE(d.has_value());
      if (d->reservation && d->reservation->start_by > 0 && !promised.contains(d->reservation->id)) {
        promised[d->reservation->id] = d->reservation->start_by;
      }
      for (const Placement& p : d->start) {
        auto it = std::find_if(in.queue.begin(), in.queue.end(), [&](const PendingJob& j) { return j.id == p.id; });
        if (promised.contains(p.id)) {
          ASSERT_LE(now, promised[p.id]) << "world " << world << " job " << p.id << " started late";
          ++reservations_checked;
        }
        RunningJob run{.id = p.id, .user = it->user, .priority = it->priority, .per_unit = it->per_unit, .units = p.units};
        run.started_at = now;
        run.expected_end = it->max_runtime_s > 0 ? now + it->max_runtime_s * 1000 : 0;
        end_at[p.id] = now + runtime_s[p.id] * 1000;
        in.running.push_back(run);
        in.queue.erase(it);
      }
      // Infeasible jobs never start; drop them.
      std::erase_if(in.queue, [&](const PendingJob& j) {
        return d->waiting_reason.contains(j.id) && d->waiting_reason.at(j.id).starts_with("infeasible:");
      });
      if (in.running.empty()) break;
      UnixMillis next = std::numeric_limits<UnixMillis>::max();
      for (const RunningJob& r : in.running) next = std::min(next, end_at[r.id]);
      now = next;
      std::erase_if(in.running, [&](const RunningJob& r) { return end_at[r.id] <= now; });
    }
    ASSERT_TRUE(in.queue.empty()) << "world " << world << " did not drain";
  }
  EXPECT_GT(reservations_checked, 100);
}

}  // namespace
}  // namespace stoke::sched
