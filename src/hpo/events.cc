#include "hpo/events.h"

#include "hpo/text_format.h"

namespace stoke::hpo {
namespace {

std::string SampleToString(const ParamSample& params) {
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : params) {
    if (!first) out += ", ";
    first = false;
    out += name + "=";
    if (const auto* d = std::get_if<double>(&value)) {
      out += Num(*d);
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      out += "'" + *s + "'";
    } else {
      out += std::to_string(std::get<int64_t>(value));
    }
  }
  return out + "}";
}

}  // namespace

std::string_view ExitReasonName(ExitReason reason) {
  switch (reason) {
    case ExitReason::kCompleted: return "completed";
    case ExitReason::kFailed: return "failed";
    case ExitReason::kPruned: return "pruned";
  }
  return "completed";
}

std::string ActionToString(const Action& action) {
  if (const auto* c = std::get_if<CreateTrial>(&action)) {
    return "create trial=" + std::to_string(c->trial) + " attempt=" + std::to_string(c->attempt) +
           " max_resource=" + std::to_string(c->max_resource) + " params=" + SampleToString(c->params);
  }
  if (const auto* s = std::get_if<StopTrial>(&action)) {
    return "stop trial=" + std::to_string(s->trial) + " reason=" + s->reason;
  }
  const auto& d = std::get<Shutdown>(action);
  return std::string("shutdown failure=") + (d.failure ? "true" : "false") + " reason=" + d.reason;
}

std::string EventToString(const Event& event) {
  if (const auto* c = std::get_if<TrialCreated>(&event)) return "created trial=" + std::to_string(c->trial);
  if (const auto* v = std::get_if<ValidationReported>(&event)) {
    return "report trial=" + std::to_string(v->trial) + " resource=" + std::to_string(v->resource) +
           " value=" + Num(v->value);
  }
  const auto& e = std::get<TrialExited>(event);
  return "exited trial=" + std::to_string(e.trial) + " reason=" + std::string(ExitReasonName(e.reason));
}

}  // namespace stoke::hpo
