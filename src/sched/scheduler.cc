#include "sched/scheduler.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sched/amount.h"
#include "sched/cover_search.h"
#include "sched/pool_state.h"
#include "sched/shadow.h"
#include "sched/share_ledger.h"

namespace stoke::sched {
namespace {

constexpr int64_t kMillisPerSecond = 1000;
// A request for more units than this is malformed; refusing it keeps a cycle's work bounded.
constexpr int kMaxUnits = 1 << 16;

std::string JoinIds(const std::vector<JobId>& ids) {
  std::string out;
  for (JobId id : ids) {
    if (!out.empty()) out += ", ";
    out += std::to_string(id);
  }
  return out;
}

// now + seconds, saturating instead of overflowing.
UnixMillis EndAfter(UnixMillis now, int64_t seconds) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (seconds > (kMax - std::max<int64_t>(now, 0)) / kMillisPerSecond) return kMax;
  return now + seconds * kMillisPerSecond;
}

int MaxUnitsOf(const PendingJob& job) { return std::clamp(job.max_units, job.min_units, kMaxUnits); }

// One running job as this cycle changes it.
struct RunState {
  const RunningJob* job = nullptr;
  int kept = 0;                   // units still held after this cycle's removals
  std::vector<int> removed;       // indexes removed by this cycle, highest first
  std::vector<Allocation> added;  // units added by this cycle
  bool stopping = false;          // stopping before this cycle, or preempted by it
};

// A job started by this cycle.
struct Started {
  const PendingJob* job = nullptr;
  size_t placement = 0;  // index into Decision::start
};

// The first job that could not start, and what later jobs may take around it.
struct Blocked {
  const PendingJob* job = nullptr;
  Shadow shadow;
};

// The pending jobs of one priority level, per user, each user's in submit order.
struct Level {
  int priority = 0;
  std::map<std::string, std::deque<const PendingJob*>> by_user;
};

// A pending job that waits because slots are short, and what it lacks beyond what is free.
struct Short {
  const PendingJob* job = nullptr;
  Amount lacks;
};

// Units a blocked head would take back from running elastic jobs.
struct ShrinkPlan {
  std::vector<std::pair<size_t, int>> units;  // (index into runs_, unit index), in removal order
  Amount remaining;                           // what the shrink leaves uncovered
};

// Runs one cycle over a validated input. Not thread-safe; lives for one Schedule() call.
class Cycle {
 public:
  explicit Cycle(const SchedulingInput& in) : in_(in), pool_(in.pool), ledger_(pool_.Capacity()) {}

  Decision Run() {
    LoadRunning();
    LoadQueue();
    while (const PendingJob* job = PickNext()) {
      if (blocked_) {
        ConsiderBackfill(*job);
      } else {
        ConsiderHead(*job);
      }
    }
    Grow();
    return Finish();
  }

 private:
  void LoadRunning() {
    runs_.reserve(in_.running.size());
    for (const RunningJob& job : in_.running) {
      runs_.push_back(RunState{&job, static_cast<int>(job.units.size()), {}, {}, job.stopping});
    }
    std::sort(runs_.begin(), runs_.end(), [](const RunState& a, const RunState& b) { return a.job->id < b.job->id; });
    for (const RunState& run : runs_) {
      for (const Allocation& unit : run.job->units) {
        pool_.MarkUsed(unit, run.job->per_unit.memory_bytes);
        ledger_.Add(run.job->user, pool_.Held(unit, run.job->per_unit.memory_bytes));
      }
    }
  }

  void LoadQueue() {
    std::vector<const PendingJob*> order;
    const Amount capacity = pool_.Capacity();
    for (const PendingJob& job : in_.queue) {
      const Resources& r = job.per_unit;
      if (job.min_units < 1 || job.min_units > kMaxUnits || r.cpus < 0 || r.gpus < 0 || r.memory_bytes < 0) {
        decision_.waiting_reason[job.id] = "infeasible: invalid request (units must be 1.." +
                                           std::to_string(kMaxUnits) + ", resources not negative)";
        continue;
      }
      Amount need = pool_.Need(r, job.min_units);
      if (!need.FitsIn(capacity)) {
        decision_.waiting_reason[job.id] = "infeasible: " + DescribeExcess(need, capacity);
        continue;
      }
      order.push_back(&job);
    }
    std::sort(order.begin(), order.end(), [](const PendingJob* a, const PendingJob* b) {
      return std::tuple(-static_cast<int64_t>(a->priority), a->seq, a->id) <
             std::tuple(-static_cast<int64_t>(b->priority), b->seq, b->id);
    });
    for (const PendingJob* job : order) {
      if (levels_.empty() || levels_.back().priority != job->priority) levels_.push_back(Level{job->priority, {}});
      levels_.back().by_user[job->user].push_back(job);
    }
  }

  // Highest priority first; within a priority, the user with the lowest dominant share right now
  // (with fair share on), then the earliest submission.
  const PendingJob* PickNext() {
    while (level_pos_ < levels_.size()) {
      Level& level = levels_[level_pos_];
      std::deque<const PendingJob*>* best = nullptr;
      std::tuple<double, int64_t, JobId> best_key;
      for (auto& [user, jobs] : level.by_user) {
        if (jobs.empty()) continue;
        double share = in_.policy.fair_share ? ledger_.DominantShare(user) : 0.0;
        std::tuple<double, int64_t, JobId> key(share, jobs.front()->seq, jobs.front()->id);
        if (best == nullptr || key < best_key) {
          best = &jobs;
          best_key = key;
        }
      }
      if (best == nullptr) {
        ++level_pos_;
        continue;
      }
      const PendingJob* job = best->front();
      best->pop_front();
      return job;
    }
    return nullptr;
  }

  void ConsiderHead(const PendingJob& job) {
    const Amount need = pool_.Need(job.per_unit, job.min_units);
    const Amount free = pool_.Free();
    if (need.FitsIn(free)) {
      Start(job);
      return;
    }
    const Amount deficit = Shortfall(need, free);
    const ShrinkPlan shrink = PlanShrink(job, deficit);
    if (shrink.remaining.IsZero()) {
      // Elastic units give way at once: the job starts in this same Decision on the freed slots.
      ApplyShrink(shrink);
      Start(job);
      return;
    }

    // Slots of jobs that are already stopping come back soon; count them before taking more.
    std::vector<JobId> waiting_on;
    Amount incoming;
    for (const RunState& run : runs_) {
      if (!run.stopping) continue;
      Amount held = HeldNow(run);
      if (!held.Helps(deficit)) continue;
      incoming += held;
      waiting_on.push_back(run.job->id);
    }
    bool covered = Shortfall(deficit, incoming).IsZero();
    if (!covered) {
      std::optional<std::vector<size_t>> victims;
      bool with_shrink = true;
      Amount rest = Shortfall(shrink.remaining, incoming);
      if (rest.IsZero()) {
        victims.emplace();
      } else if (in_.policy.preempt_lower_priority) {
        victims = PlanPreempt(job, rest, &shrink);
        if (!victims) {
          // Stopping a shrinkable job entirely may be what it takes.
          victims = PlanPreempt(job, Shortfall(deficit, incoming), nullptr);
          with_shrink = false;
        }
      }
      if (victims) {
        covered = true;
        if (with_shrink) {
          // The victims may free more than was asked of them; shrink only what they leave short,
          // or the spare slots would go straight back to the shrunk jobs in the next cycle.
          Amount freed_later = incoming;
          for (size_t v : *victims) freed_later += HeldNow(runs_[v]);
          std::set<size_t> excluded(victims->begin(), victims->end());
          ShrinkPlan smaller = PlanShrink(job, Shortfall(deficit, freed_later), excluded);
          ApplyShrink(smaller.remaining.IsZero() ? smaller : shrink);
        }
        for (size_t v : *victims) {
          runs_[v].stopping = true;
          decision_.preempt.push_back(runs_[v].job->id);
          waiting_on.push_back(runs_[v].job->id);
        }
      }
    }
    std::string reason;
    if (covered) {
      std::sort(waiting_on.begin(), waiting_on.end());
      reason = (waiting_on.size() == 1 ? "waiting for job " : "waiting for jobs ") + JoinIds(waiting_on) + " to stop";
    } else {
      reason = DescribeShortfall(need, free);
      short_.push_back(Short{&job, deficit});
    }
    Block(job, need, std::move(reason));
  }

  // The head of the queue waits; it keeps a reservation that later jobs must not delay.
  void Block(const PendingJob& job, const Amount& need, std::string reason) {
    blocked_ = Blocked{&job, ComputeShadow(pool_.Free(), need, Releases(), in_.now)};
    decision_.waiting_reason[job.id] = std::move(reason);
    decision_.reservation = Reservation{job.id, blocked_->shadow.known ? blocked_->shadow.at : 0};
  }

  void ConsiderBackfill(const PendingJob& job) {
    const PendingJob& head = *blocked_->job;
    const Amount need = pool_.Need(job.per_unit, job.min_units);
    const Amount free = pool_.Free();
    if (!need.FitsIn(free)) {
      decision_.waiting_reason[job.id] = DescribeShortfall(need, free);
      short_.push_back(Short{&job, Shortfall(need, free)});
      return;
    }
    // A job refused below still claims what the reservation keeps from it: if the queue order
    // changes (shares move), it may become the head next cycle and shrink whatever grew there.
    const Amount lacks_beside_head = in_.policy.backfill ? Shortfall(need, blocked_->shadow.extra) : need;
    if (const PendingJob* claimant = WouldPreempt(job, need)) {
      decision_.waiting_reason[job.id] = "behind higher-priority job " + std::to_string(claimant->id);
      short_.push_back(Short{&job, lacks_beside_head});
      return;
    }
    if (in_.policy.backfill) {
      Shadow& shadow = blocked_->shadow;
      // A job known to end before the head's start cannot delay it, whatever it takes.
      const bool ends_in_time =
          shadow.known && job.max_runtime_s > 0 && EndAfter(in_.now, job.max_runtime_s) <= shadow.at;
      if (ends_in_time) {
        Start(job);
        return;
      }
      // Otherwise it may only take what the head will not need even when it starts.
      if (need.FitsIn(shadow.extra)) {
        shadow.extra -= need;
        Start(job);
        return;
      }
    }
    decision_.waiting_reason[job.id] = head.priority > job.priority
                                           ? "behind higher-priority job " + std::to_string(head.id)
                                           : "reserved for job " + std::to_string(head.id) + " (backfill)";
    short_.push_back(Short{&job, lacks_beside_head});
  }

  // With preemption on, a job that a waiting higher-priority job could preempt for what it takes
  // does not start: it would be stopped again in the next cycle. Returns that waiting job.
  const PendingJob* WouldPreempt(const PendingJob& job, const Amount& need) const {
    if (!in_.policy.preempt_lower_priority) return nullptr;
    for (const Short& w : short_) {
      if (w.job->priority > job.priority && need.Helps(w.lacks)) return w.job;
    }
    return nullptr;
  }

  // True when a waiting job could take `unit` back from `user`'s elastic job of `priority` by a
  // shrink in the next cycle: growing into it would start a rescale ping-pong.
  bool WouldShrinkBack(const std::string& user, int priority, const Amount& unit) const {
    for (const Short& w : short_) {
      if (!unit.Helps(w.lacks)) continue;
      if (w.job->priority > priority) return true;
      if (in_.policy.fair_share && w.job->priority == priority && w.job->user != user &&
          ledger_.DominantShareWith(user, unit) > ledger_.DominantShare(w.job->user)) {
        return true;
      }
    }
    return false;
  }

  void Start(const PendingJob& job) {
    Placement placement{job.id, {}};
    for (int i = 0; i < job.min_units; ++i) {
      std::optional<Allocation> unit = pool_.TakeUnit(job.per_unit);
      if (!unit) {
        // Unreachable when the counts fit (slots are interchangeable); undo rather than half-start.
        for (const Allocation& taken : placement.units) pool_.Release(taken, pool_.Need(job.per_unit, 1).memory);
        decision_.waiting_reason[job.id] = "internal: placement failed";
        return;
      }
      placement.units.push_back(std::move(*unit));
    }
    ledger_.Add(job.user, pool_.Need(job.per_unit, job.min_units));
    started_.push_back(Started{&job, decision_.start.size()});
    decision_.start.push_back(std::move(placement));
  }

  Amount UnitHeld(const RunState& run, int unit) const {
    return pool_.Held(run.job->units[static_cast<size_t>(unit)], run.job->per_unit.memory_bytes);
  }

  Amount HeldNow(const RunState& run) const {
    Amount held;
    for (int i = 0; i < run.kept; ++i) held += UnitHeld(run, i);
    for (const Allocation& unit : run.added) held += pool_.Held(unit, run.job->per_unit.memory_bytes);
    return held;
  }

  // Which elastic units `job` may take back: from lower-priority jobs, or at equal priority from a
  // user whose dominant share stays above the job's user's. Lowest priority first, then the
  // largest share, then the newest job; within a job the newest unit first.
  ShrinkPlan PlanShrink(const PendingJob& job, const Amount& deficit, const std::set<size_t>& excluded = {}) const {
    ShrinkPlan plan;
    plan.remaining = deficit;
    ShareLedger ledger = ledger_;
    const double claimant_share = ledger_.DominantShare(job.user);
    std::vector<int> kept(runs_.size());
    for (size_t i = 0; i < runs_.size(); ++i) kept[i] = runs_[i].kept;
    while (!plan.remaining.IsZero()) {
      std::optional<size_t> best;
      std::tuple<int, double, int64_t, int64_t> best_key;
      for (size_t i = 0; i < runs_.size(); ++i) {
        const RunState& run = runs_[i];
        const RunningJob& rj = *run.job;
        if (run.stopping || excluded.contains(i) || rj.max_units <= rj.min_units || kept[i] <= rj.min_units) continue;
        const double share = ledger.DominantShare(rj.user);
        const bool lower = rj.priority < job.priority;
        const bool fairer = in_.policy.fair_share && rj.priority == job.priority && rj.user != job.user &&
                            share > claimant_share;
        if (!lower && !fairer) continue;
        if (!UnitHeld(run, kept[i] - 1).Helps(plan.remaining)) continue;
        std::tuple<int, double, int64_t, int64_t> key(rj.priority, -share, -rj.started_at, -rj.id);
        if (!best || key < best_key) {
          best = i;
          best_key = key;
        }
      }
      if (!best) break;
      const Amount unit = UnitHeld(runs_[*best], kept[*best] - 1);
      plan.units.emplace_back(*best, kept[*best] - 1);
      plan.remaining = Shortfall(plan.remaining, unit);
      ledger.Subtract(runs_[*best].job->user, unit);
      --kept[*best];
    }
    return plan;
  }

  void ApplyShrink(const ShrinkPlan& plan) {
    for (const auto& [index, unit] : plan.units) {
      RunState& run = runs_[index];
      const Amount held = UnitHeld(run, unit);
      pool_.Release(run.job->units[static_cast<size_t>(unit)], run.job->per_unit.memory_bytes);
      ledger_.Subtract(run.job->user, held);
      --run.kept;
      run.removed.push_back(unit);
    }
  }

  // The fewest running jobs of lower priority whose slots cover `wanted`; preferring the lowest
  // priority, then the newest. Jobs named in `shrink` are left out (they already give units).
  std::optional<std::vector<size_t>> PlanPreempt(const PendingJob& job, const Amount& wanted,
                                                 const ShrinkPlan* shrink) const {
    std::set<size_t> shrinking;
    if (shrink != nullptr) {
      for (const auto& [index, unit] : shrink->units) shrinking.insert(index);
    }
    std::vector<size_t> candidates;
    for (size_t i = 0; i < runs_.size(); ++i) {
      const RunState& run = runs_[i];
      // A job already shrunk for an earlier start in this cycle may still be preempted (its Resize
      // keeps the removals; the stop takes the rest): deferring it would only cost a rescale first.
      if (run.stopping || run.job->priority >= job.priority || shrinking.contains(i)) continue;
      if (!HeldNow(run).Helps(wanted)) continue;
      candidates.push_back(i);
    }
    std::sort(candidates.begin(), candidates.end(), [this](size_t a, size_t b) {
      const RunningJob& x = *runs_[a].job;
      const RunningJob& y = *runs_[b].job;
      return std::tuple(x.priority, -x.started_at, -x.id) < std::tuple(y.priority, -y.started_at, -y.id);
    });
    std::vector<Amount> offers;
    for (size_t i : candidates) offers.push_back(HeldNow(runs_[i]));
    std::optional<std::vector<size_t>> picked = FewestCovering(offers, wanted);
    if (!picked) return std::nullopt;
    std::vector<size_t> victims;
    for (size_t k : *picked) victims.push_back(candidates[k]);
    return victims;
  }

  // When running and just-started jobs give their slots back, where that is known.
  std::vector<Release> Releases() const {
    std::vector<Release> releases;
    for (const RunState& run : runs_) {
      if (run.stopping) {
        releases.push_back(Release{in_.now, HeldNow(run)});
      } else if (run.job->expected_end > 0) {
        releases.push_back(Release{run.job->expected_end, HeldNow(run)});
      }
    }
    for (const Started& s : started_) {
      if (s.job->max_runtime_s <= 0) continue;
      const auto units = static_cast<int64_t>(decision_.start[s.placement].units.size());
      releases.push_back(Release{EndAfter(in_.now, s.job->max_runtime_s), pool_.Need(s.job->per_unit, units)});
    }
    return releases;
  }

  // Idle slots that no pending job can use go to elastic jobs, one unit at a time: first to jobs
  // below their min_units (a worker died; they cannot progress), then highest priority, then the
  // user with the lowest dominant share, then the lowest job id. Slots the
  // blocked head will need stay idle (taking them would only be undone by a shrink later), unless
  // the growing job is known to end before the head's start, as with backfill.
  void Grow() {
    struct Growable {
      const std::string* user;
      int priority;
      JobId id;
      const Resources* per_unit;
      int units;
      int min_units;
      int max_units;
      UnixMillis end;  // 0 = unknown
      std::vector<Allocation>* out;
    };
    std::vector<Growable> growables;
    for (RunState& run : runs_) {
      const RunningJob& rj = *run.job;
      if (run.stopping || !run.removed.empty() || rj.max_units <= rj.min_units) continue;
      growables.push_back(Growable{&rj.user, rj.priority, rj.id, &rj.per_unit,
                                   run.kept + static_cast<int>(run.added.size()), rj.min_units,
                                   std::min(rj.max_units, kMaxUnits),
                                   rj.expected_end, &run.added});
    }
    for (const Started& s : started_) {
      Placement& placement = decision_.start[s.placement];
      if (MaxUnitsOf(*s.job) <= s.job->min_units) continue;
      const UnixMillis end = s.job->max_runtime_s > 0 ? EndAfter(in_.now, s.job->max_runtime_s) : 0;
      growables.push_back(Growable{&s.job->user, s.job->priority, s.job->id, &s.job->per_unit,
                                   static_cast<int>(placement.units.size()), s.job->min_units, MaxUnitsOf(*s.job), end,
                                   &placement.units});
    }
    auto ends_in_time = [this](const Growable& g) {
      return blocked_ && blocked_->shadow.known && g.end > 0 && g.end <= blocked_->shadow.at;
    };
    auto fits = [&](const Growable& g, const Amount& unit) {
      if (!unit.FitsIn(pool_.Free())) return false;
      return !blocked_ || ends_in_time(g) || unit.FitsIn(blocked_->shadow.extra);
    };
    while (true) {
      Growable* best = nullptr;
      std::tuple<bool, int64_t, double, JobId> best_key;
      for (Growable& g : growables) {
        if (g.units >= g.max_units) continue;
        const Amount unit = pool_.Need(*g.per_unit, 1);
        // Units that take nothing cannot use idle slots; growing them would only loop.
        if (unit.IsZero() || !fits(g, unit) || WouldShrinkBack(*g.user, g.priority, unit)) continue;
        const double share = in_.policy.fair_share ? ledger_.DominantShare(*g.user) : 0.0;
        std::tuple<bool, int64_t, double, JobId> key(g.units >= g.min_units, -static_cast<int64_t>(g.priority), share,
                                                     g.id);
        if (best == nullptr || key < best_key) {
          best = &g;
          best_key = key;
        }
      }
      if (best == nullptr) break;
      std::optional<Allocation> unit = pool_.TakeUnit(*best->per_unit);
      if (!unit) {
        best->max_units = best->units;  // unreachable when the counts fit; stop trying this job
        continue;
      }
      const Amount taken = pool_.Need(*best->per_unit, 1);
      if (blocked_ && !ends_in_time(*best)) blocked_->shadow.extra -= taken;
      best->out->push_back(std::move(*unit));
      ++best->units;
      ledger_.Add(*best->user, taken);
    }
  }

  Decision Finish() {
    for (const RunState& run : runs_) {
      if (run.removed.empty() && run.added.empty()) continue;
      decision_.resize.push_back(Resize{run.job->id, run.added, run.removed});
    }
    std::sort(decision_.preempt.begin(), decision_.preempt.end());
    return std::move(decision_);
  }

  const SchedulingInput& in_;
  PoolState pool_;
  ShareLedger ledger_;
  std::vector<RunState> runs_;  // sorted by job id
  std::vector<Level> levels_;   // highest priority first
  size_t level_pos_ = 0;
  std::vector<Started> started_;
  std::optional<Blocked> blocked_;
  std::vector<Short> short_;  // jobs that wait for lack of slots, and what they lack
  Decision decision_;
};

}  // namespace

Status ValidateInput(const SchedulingInput& in) {
  if (in.pool.cpu_slots < 0) return Status::InvalidArgument("pool has a negative CPU slot count", "pool.cpu_slots");
  if (in.pool.memory_bytes < 0) return Status::InvalidArgument("pool has negative memory", "pool.memory_bytes");
  std::vector<int> gpus = in.pool.gpus;
  std::sort(gpus.begin(), gpus.end());
  if (!gpus.empty() && gpus.front() < 0) return Status::InvalidArgument("pool lists a negative GPU index", "pool.gpus");
  if (std::adjacent_find(gpus.begin(), gpus.end()) != gpus.end()) {
    return Status::InvalidArgument("pool lists a GPU twice", "pool.gpus");
  }
  std::set<JobId> ids;
  for (const RunningJob& job : in.running) {
    if (!ids.insert(job.id).second) return Status::InvalidArgument("job " + std::to_string(job.id) + " appears twice");
  }
  for (const PendingJob& job : in.queue) {
    if (!ids.insert(job.id).second) return Status::InvalidArgument("job " + std::to_string(job.id) + " appears twice");
  }
  PoolState pool(in.pool);
  for (const RunningJob& job : in.running) {
    const Resources& r = job.per_unit;
    if (r.cpus < 0 || r.gpus < 0 || r.memory_bytes < 0) {
      return Status::InvalidArgument("running job " + std::to_string(job.id) + " has negative resources");
    }
    for (size_t i = 0; i < job.units.size(); ++i) {
      if (!pool.IsFree(job.units[i])) {
        return Status::InvalidArgument("running job " + std::to_string(job.id) + " unit " + std::to_string(i) +
                                       " holds a CPU slot or GPU that the pool lacks or another unit holds");
      }
      pool.MarkUsed(job.units[i], r.memory_bytes);
    }
  }
  return Status::Ok();
}

Result<Decision> Schedule(const SchedulingInput& in) {
  STOKE_RETURN_IF_ERROR(ValidateInput(in));
  return Cycle(in).Run();
}

}  // namespace stoke::sched
