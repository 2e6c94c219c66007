#pragma once

#include "common/status.h"
#include "sched/decision.h"
#include "sched/scheduling_input.h"

// The scheduler core: a pure function of the pool state. No threads, clock, I/O or randomness
// inside; `now` is an input. Same input (in any order of `running` and `queue`) gives the same
// Decision. Stateless, hence safe to call from any thread.
namespace stoke::sched {

// Checks the snapshot for contradictions the scheduler cannot work around: duplicate job ids, a
// pool with duplicate or negative GPU ids, a running unit naming a slot or GPU the pool does not
// have, or one slot/GPU held twice. Pending jobs are not errors: an impossible request only gets
// an "infeasible: ..." waiting reason.
Status ValidateInput(const SchedulingInput& in);

// One scheduling cycle. Rules, in order (src/sched/README.md has the long form):
//  - Queue order: priority (higher first); at equal priority the user with the lowest dominant
//    share (max of the CPU, GPU and memory fractions they hold, counting this cycle's starts),
//    then submit order (seq), then id.
//  - Gang: a job starts with all of min_units x per_unit or not at all.
//  - The first job that cannot start becomes the head: it may shrink elastic jobs of lower
//    priority (or, at equal priority, of a user with a larger dominant share) to start now; else,
//    with policy.preempt_lower_priority, it preempts the fewest lower-priority jobs; else it waits
//    with a reservation. Later jobs start only when they do not delay it (EASY backfill).
//  - Infeasible jobs (more than the whole pool) never block anyone.
//  - Leftover slots (beyond the head's reservation, and not lacked by a waiting job that could
//    take them back) grow elastic jobs one unit at a time: jobs below min_units first, then
//    highest priority, then lowest dominant share.
// Returns kInvalidArgument when ValidateInput fails; nothing is decided then.
Result<Decision> Schedule(const SchedulingInput& in);

}  // namespace stoke::sched
