#include "engine/shard_plan.h"

#include <numeric>
#include <random>

namespace stoke::engine {

namespace {
// SplitMix64: mixes (seed, epoch) into a well-spread generator seed.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

Result<ShardPlan> ShardPlan::Create(ShardPlanOptions options) {
  if (options.dataset_size <= 0) return Err(Status::InvalidArgument("dataset is empty", "data"));
  if (options.global_batch <= 0) return Err(Status::InvalidArgument("global batch must be > 0", "global_batch"));
  return ShardPlan(options);
}

ShardPlan::ShardPlan(ShardPlanOptions options)
    : options_(options),
      steps_per_epoch_((options.dataset_size + options.global_batch - 1) / options.global_batch) {}

StepPosition ShardPlan::Position(int64_t global_step) const {
  StepPosition p;
  p.epoch = global_step / steps_per_epoch_;
  p.step_in_epoch = global_step % steps_per_epoch_;
  p.cursor = p.step_in_epoch * options_.global_batch;
  return p;
}

int64_t ShardPlan::StepBatchSize(int64_t global_step) const {
  StepPosition p = Position(global_step);
  return std::min(options_.global_batch, options_.dataset_size - p.cursor);
}

std::vector<int64_t> ShardPlan::EpochOrder(int64_t epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(options_.dataset_size));
  std::iota(order.begin(), order.end(), 0);
  if (!options_.shuffle) return order;
  // Fisher-Yates with an explicit generator and reduction, so the order is identical on every
  // platform and standard library (std::shuffle's is implementation-defined).
  std::mt19937_64 rng(Mix(options_.seed ^ Mix(static_cast<uint64_t>(epoch))));
  for (size_t i = order.size() - 1; i > 0; --i) {
    size_t j = static_cast<size_t>(rng() % (i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

const std::vector<int64_t>& ShardPlan::CachedOrder(int64_t epoch) const {
  if (cached_epoch_ != epoch) {
    cached_order_ = EpochOrder(epoch);
    cached_epoch_ = epoch;
  }
  return cached_order_;
}

std::vector<int64_t> ShardPlan::RankSamples(int64_t global_step, int world, int rank) const {
  StepPosition p = Position(global_step);
  const int64_t batch = StepBatchSize(global_step);
  const int64_t base = batch / world, extra = batch % world;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  const int64_t count = base + (rank < extra ? 1 : 0);
  const auto& order = CachedOrder(p.epoch);
  return std::vector<int64_t>(order.begin() + p.cursor + begin, order.begin() + p.cursor + begin + count);
}

std::vector<std::vector<int64_t>> SplitMicroBatches(const std::vector<int64_t>& samples, int64_t max_micro_batch) {
  std::vector<std::vector<int64_t>> out;
  if (max_micro_batch <= 0 || static_cast<int64_t>(samples.size()) <= max_micro_batch) {
    if (!samples.empty()) out.push_back(samples);
    return out;
  }
  for (size_t i = 0; i < samples.size(); i += static_cast<size_t>(max_micro_batch)) {
    size_t end = std::min(samples.size(), i + static_cast<size_t>(max_micro_batch));
    out.emplace_back(samples.begin() + static_cast<std::ptrdiff_t>(i), samples.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

}  // namespace stoke::engine
