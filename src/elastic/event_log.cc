#include "elastic/event_log.h"

#include "elastic/keys.h"

namespace stoke::elastic {

namespace {
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
}  // namespace

std::string FormatEvent(const MembershipEvent& event) {
  return std::visit(Overloaded{
                        [](const JoinEvent& e) { return "join:" + std::to_string(e.worker); },
                        [](const LeaveEvent& e) { return "leave:" + std::to_string(e.worker); },
                        [](const FailureEvent& e) {
                          return "fail:" + std::to_string(e.worker) + ":" + std::to_string(e.generation);
                        },
                    },
                    event);
}

Result<MembershipEvent> ParseEvent(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return Err(Status::InvalidArgument("bad event '" + std::string(text) + "'"));
  std::string_view kind = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  if (kind == "join" || kind == "leave") {
    STOKE_ASSIGN_OR_RETURN(int64_t worker, keys::ParseInt(rest));
    if (kind == "join") return MembershipEvent(JoinEvent{worker});
    return MembershipEvent(LeaveEvent{worker});
  }
  if (kind == "fail") {
    size_t second = rest.find(':');
    if (second == std::string_view::npos) return Err(Status::InvalidArgument("bad event '" + std::string(text) + "'"));
    STOKE_ASSIGN_OR_RETURN(int64_t worker, keys::ParseInt(rest.substr(0, second)));
    STOKE_ASSIGN_OR_RETURN(int64_t gen, keys::ParseInt(rest.substr(second + 1)));
    return MembershipEvent(FailureEvent{worker, gen});
  }
  return Err(Status::InvalidArgument("unknown event kind '" + std::string(kind) + "'"));
}

Status AppendEvent(KvStore& store, const MembershipEvent& event) {
  STOKE_ASSIGN_OR_RETURN(int64_t count, store.Add(keys::kEventCount, 1));
  return store.Set(keys::Event(count - 1), FormatEvent(event));
}

}  // namespace stoke::elastic
