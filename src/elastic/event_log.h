#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "common/status.h"
#include "elastic/kv_store.h"

namespace stoke::elastic {

// Entries of a job's append-only event log (keys events/count, events/<i>).
struct JoinEvent {
  int64_t worker;
};
struct LeaveEvent {
  int64_t worker;
};
struct FailureEvent {
  int64_t worker;
  int64_t generation;
};
using MembershipEvent = std::variant<JoinEvent, LeaveEvent, FailureEvent>;

// "join:3", "leave:3", "fail:3:7".
std::string FormatEvent(const MembershipEvent& event);
Result<MembershipEvent> ParseEvent(std::string_view text);
// Appends one event: index = Add(events/count, 1) - 1, then Set(events/<index>).
Status AppendEvent(KvStore& store, const MembershipEvent& event);

}  // namespace stoke::elastic
