#include "engine/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace stoke::engine {

Result<LrScheduleKind> ParseLrScheduleKind(std::string_view name) {
  if (name == "constant") return LrScheduleKind::kConstant;
  if (name == "step") return LrScheduleKind::kStep;
  if (name == "cosine") return LrScheduleKind::kCosine;
  return Err(Status::InvalidArgument("unknown lr schedule '" + std::string(name) + "'", "lr_schedule"));
}

double LearningRate(const LrSchedule& s, int64_t step, int64_t total_steps) {
  if (s.warmup_steps > 0 && step < s.warmup_steps) {
    return s.base_lr * static_cast<double>(step + 1) / static_cast<double>(s.warmup_steps);
  }
  const int64_t after = step - s.warmup_steps;
  switch (s.kind) {
    case LrScheduleKind::kConstant:
      return s.base_lr;
    case LrScheduleKind::kStep:
      return s.base_lr * std::pow(s.gamma, static_cast<double>(after / std::max<int64_t>(1, s.step_size)));
    case LrScheduleKind::kCosine: {
      const int64_t span = std::max<int64_t>(1, total_steps - s.warmup_steps);
      const double t = std::clamp(static_cast<double>(after) / static_cast<double>(span), 0.0, 1.0);
      return s.min_lr + 0.5 * (s.base_lr - s.min_lr) * (1.0 + std::cos(std::numbers::pi * t));
    }
  }
  return s.base_lr;
}

}  // namespace stoke::engine
