#include "sched/decision.h"

namespace stoke::sched {
namespace {

std::string Join(const std::vector<int>& values) {
  std::string out;
  for (int v : values) {
    if (!out.empty()) out += ",";
    out += std::to_string(v);
  }
  return out;
}

std::string UnitString(const Allocation& unit) { return "{cpus[" + Join(unit.cpus) + "] gpus[" + Join(unit.gpus) + "]}"; }

std::string UnitsString(const std::vector<Allocation>& units) {
  std::string out;
  for (const auto& unit : units) out += UnitString(unit);
  return out;
}

}  // namespace

std::string ToString(const Decision& decision) {
  std::string out;
  for (const auto& p : decision.start) out += "start " + std::to_string(p.id) + " " + UnitsString(p.units) + "\n";
  for (const auto& r : decision.resize) {
    out += "resize " + std::to_string(r.id);
    if (!r.add.empty()) out += " add " + UnitsString(r.add);
    if (!r.remove_units.empty()) out += " remove [" + Join(r.remove_units) + "]";
    out += "\n";
  }
  for (JobId id : decision.preempt) out += "preempt " + std::to_string(id) + "\n";
  for (const auto& [id, reason] : decision.waiting_reason) out += "wait " + std::to_string(id) + ": " + reason + "\n";
  if (decision.reservation) {
    out += "reservation " + std::to_string(decision.reservation->id) + " by " +
           std::to_string(decision.reservation->start_by) + "\n";
  }
  return out;
}

}  // namespace stoke::sched
