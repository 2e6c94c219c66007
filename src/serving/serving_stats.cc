#include "serving/serving_stats.h"

#include <algorithm>

namespace stoke::serving {

ServingStats::ServingStats(int max_batch)
    : latency_bounds_{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000} {
  for (int64_t b = 1; b < max_batch; b *= 2) batch_bounds_.push_back(b);
  batch_bounds_.push_back(std::max(1, max_batch));
  batch_counts_.assign(batch_bounds_.size(), 0);
  latency_counts_.assign(latency_bounds_.size() + 1, 0);
  recent_ms_.reserve(kRecent);
}

void ServingStats::RecordRequest(int status, int64_t rows, double latency_ms) {
  std::lock_guard lock(mu_);
  ++requests_;
  if (status >= 500) ++errors_5xx_;
  else if (status >= 400) ++errors_4xx_;
  else rows_ += rows;
  latency_sum_ms_ += latency_ms;
  size_t i = std::lower_bound(latency_bounds_.begin(), latency_bounds_.end(), latency_ms) - latency_bounds_.begin();
  ++latency_counts_[i];
  if (recent_ms_.size() < kRecent) {
    recent_ms_.push_back(latency_ms);
  } else {
    recent_ms_[recent_next_] = latency_ms;
    recent_next_ = (recent_next_ + 1) % kRecent;
  }
}

void ServingStats::RecordBatch(int64_t rows, double run_ms) {
  std::lock_guard lock(mu_);
  ++batches_;
  batch_rows_ += rows;
  run_sum_ms_ += run_ms;
  size_t i = std::lower_bound(batch_bounds_.begin(), batch_bounds_.end(), rows) - batch_bounds_.begin();
  ++batch_counts_[std::min(i, batch_counts_.size() - 1)];
}

double ServingStats::LatencyQuantile(double q) const {
  std::vector<double> v;
  {
    std::lock_guard lock(mu_);
    v = recent_ms_;
  }
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

nlohmann::json ServingStats::ToJson() const {
  double p50 = LatencyQuantile(0.5), p99 = LatencyQuantile(0.99);
  std::lock_guard lock(mu_);
  nlohmann::json latency_le = latency_bounds_;
  latency_le.push_back("+Inf");
  return {
      {"requests", requests_},
      {"errors_4xx", errors_4xx_},
      {"errors_5xx", errors_5xx_},
      {"rows", rows_},
      {"batches", batches_},
      {"mean_batch", batches_ ? static_cast<double>(batch_rows_) / static_cast<double>(batches_) : 0.0},
      {"run_ms_mean", batches_ ? run_sum_ms_ / static_cast<double>(batches_) : 0.0},
      {"batch_sizes", {{"le", batch_bounds_}, {"count", batch_counts_}}},
      {"latency_ms",
       {{"p50", p50},
        {"p99", p99},
        {"mean", requests_ ? latency_sum_ms_ / static_cast<double>(requests_) : 0.0},
        {"le", latency_le},
        {"count", latency_counts_}}},
  };
}

}  // namespace stoke::serving
