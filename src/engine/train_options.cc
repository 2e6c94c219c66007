#include "engine/train_options.h"

namespace stoke::engine {

Result<LossKind> ParseLossKind(std::string_view name) {
  if (name == "cross_entropy") return LossKind::kCrossEntropy;
  if (name == "mse") return LossKind::kMse;
  if (name == "bce_with_logits") return LossKind::kBceWithLogits;
  if (name == "module") return LossKind::kModule;
  return Err(Status::InvalidArgument("unknown loss '" + std::string(name) + "'", "loss"));
}

Result<OptimizerKind> ParseOptimizerKind(std::string_view name) {
  if (name == "sgd") return OptimizerKind::kSgd;
  if (name == "adam") return OptimizerKind::kAdam;
  if (name == "adamw") return OptimizerKind::kAdamW;
  return Err(Status::InvalidArgument("unknown optimizer '" + std::string(name) + "'", "optimizer"));
}

}  // namespace stoke::engine
