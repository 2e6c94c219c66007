#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/job.h"

namespace stoke::sched {

// Start a pending job on these units (min_units..max_units of them, each exactly per_unit).
struct Placement {
  JobId id = 0;
  std::vector<Allocation> units;
  bool operator==(const Placement&) const = default;
};

// Change the size of a running elastic job. One Resize per job per Decision; it either grows or
// shrinks, never both.
struct Resize {
  JobId id = 0;
  std::vector<Allocation> add;     // new units, to append after the existing ones
  std::vector<int> remove_units;   // indexes into RunningJob::units, highest first (newest units go first)
  bool operator==(const Resize&) const = default;
};

// The slots held back for the blocked head of the queue (EASY backfill).
struct Reservation {
  JobId id = 0;
  UnixMillis start_by = 0;  // when it can start at the latest, from known expected ends; 0 = unknown
  bool operator==(const Reservation&) const = default;
};

// The outcome of one cycle. How the service applies it:
//   1. resize.remove_units: the removed units' slots are free at once, and the starts in this same
//      Decision may already be placed on them (the service lets those workers leave at their next
//      step boundary before it launches the new job's processes there);
//   2. start: launch each job on exactly the given units;
//   3. resize.add: add workers on the new units;
//   4. preempt: ask those jobs to stop. Their slots are NOT reused in this Decision; report them with
//      RunningJob::stopping = true until they exit, and the waiting job starts in a later cycle.
//      A preempted job may also have a Resize with remove_units (it gave units to a start earlier in
//      the cycle): those slots are used by that start once the job's workers are gone.
// No slot, GPU or memory byte is ever given twice, counting what running jobs keep.
struct Decision {
  std::vector<Placement> start;                 // in the order the scheduler chose them
  std::vector<Resize> resize;                   // sorted by job id
  std::vector<JobId> preempt;                   // sorted by job id
  std::map<JobId, std::string> waiting_reason;  // every pending job that does not start, in words
  std::optional<Reservation> reservation;
  bool operator==(const Decision&) const = default;
};

// A compact one-line-per-item rendering, for logs and test failure messages.
std::string ToString(const Decision& decision);

}  // namespace stoke::sched
