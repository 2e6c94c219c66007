#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sched/decision.h"
#include "sched/scheduling_input.h"

// Builders and the table of snapshot -> decision cases, shared by the table test and the
// determinism test.
namespace stoke::sched::testing {

inline constexpr UnixMillis kNow = 1'700'000'000'000;
inline constexpr int64_t kGiB = int64_t{1} << 30;

inline Resources R(int gpus, int cpus = 1, int64_t memory_bytes = 0) {
  return Resources{.gpus = gpus, .cpus = cpus, .memory_bytes = memory_bytes};
}

inline Allocation A(std::vector<int> cpus, std::vector<int> gpus = {}) {
  return Allocation{.cpus = std::move(cpus), .gpus = std::move(gpus)};
}

inline PendingJob Pending(JobId id, int64_t seq, Resources per_unit, std::string user = "alice", int priority = 0) {
  return PendingJob{.id = id, .user = std::move(user), .priority = priority, .seq = seq, .per_unit = per_unit};
}

inline RunningJob Running(JobId id, Resources per_unit, std::vector<Allocation> units, std::string user = "alice",
                          int priority = 0) {
  return RunningJob{.id = id, .user = std::move(user), .priority = priority, .per_unit = per_unit, .units = std::move(units)};
}

// Returns `value` after `edit` ran on it: With(Pending(...), [](auto& j) { j.max_units = 4; }).
template <typename T, typename F>
T With(T value, F edit) {
  edit(value);
  return value;
}

inline Pool Pool4Gpus() { return Pool{.cpu_slots = 8, .gpus = {0, 1, 2, 3}, .memory_bytes = 0}; }

struct Case {
  std::string name;
  SchedulingInput in;
  Decision want;
};

// gtest prints a case by its name rather than its bytes.
inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> SchedulerCases();

}  // namespace stoke::sched::testing
