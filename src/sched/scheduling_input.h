#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/job.h"

// What one scheduling cycle looks at: the pool, the running work and the queue. Plain values; the
// service builds a fresh snapshot for every cycle.
namespace stoke::sched {

// The schedulable capacity of the machine.
struct Pool {
  int cpu_slots = 0;         // CPU slots are numbered 0..cpu_slots-1
  std::vector<int> gpus;     // device indexes, e.g. {0, 1, 2, 3}; unique
  int64_t memory_bytes = 0;  // 0 = memory is not accounted (jobs' memory asks are then ignored)
  bool operator==(const Pool&) const = default;
};

struct Policy {
  // Let a blocked pending job ask running jobs of strictly lower priority to stop (Decision::preempt).
  bool preempt_lower_priority = false;
  // Let later jobs start while the head of the queue waits, when they do not delay it (EASY backfill).
  bool backfill = true;
  // At equal priority, serve the user with the lowest dominant share first, and let a user below
  // another's share take units back from that user's elastic jobs.
  bool fair_share = true;
  bool operator==(const Policy&) const = default;
};

// A job that holds slots. A command job has one unit; an elastic job has one unit per worker.
struct RunningJob {
  JobId id = 0;
  std::string user;
  int priority = 0;
  Resources per_unit;              // what one unit asks (memory is per unit too)
  std::vector<Allocation> units;   // in the order they were added; the last one is the newest
  int min_units = 1;               // elastic when max_units > min_units
  int max_units = 1;
  UnixMillis started_at = 0;       // orders preemption and shrink victims (newest first)
  UnixMillis expected_end = 0;     // 0 = unknown; the service derives it from max_runtime_s
  // Asked to stop (preempted or killed) and not gone yet: its slots are still held, will come back
  // soon, and it is never chosen again as a victim.
  bool stopping = false;
  bool operator==(const RunningJob&) const = default;
};

// A job waiting in the queue.
struct PendingJob {
  JobId id = 0;
  std::string user;
  int priority = 0;                // higher first
  int64_t seq = 0;                 // submit order; lower first
  Resources per_unit;
  int min_units = 1;               // gang: starts with at least this many units or not at all
  int max_units = 1;               // elastic when > min_units
  int64_t max_runtime_s = 0;       // 0 = unknown; a known runtime lets the job backfill before a reservation
  bool operator==(const PendingJob&) const = default;
};

struct SchedulingInput {
  Pool pool;
  std::vector<RunningJob> running;  // any order
  std::vector<PendingJob> queue;    // any order; the scheduler sorts by priority, then seq
  UnixMillis now = 0;
  Policy policy;
};

}  // namespace stoke::sched
