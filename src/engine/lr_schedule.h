#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace stoke::engine {

enum class LrScheduleKind { kConstant, kStep, kCosine };

struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::kConstant;
  double base_lr = 0.01;
  int64_t warmup_steps = 0;  // linear ramp from base_lr/warmup_steps up to base_lr
  int64_t step_size = 1;     // kStep: multiply by gamma every step_size steps
  double gamma = 0.1;
  double min_lr = 0.0;       // kCosine: floor at the last step
};

Result<LrScheduleKind> ParseLrScheduleKind(std::string_view name);
// Learning rate for global step `step` of `total_steps` (pure; used identically on every rank).
double LearningRate(const LrSchedule& schedule, int64_t step, int64_t total_steps);

}  // namespace stoke::engine
