#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

namespace stoke::serving {

// Counters and histograms of one replica: requests, rows, batch sizes and latencies.
// Thread-safe (one mutex; every update is a few additions).
class ServingStats {
 public:
  explicit ServingStats(int max_batch);

  // One finished request: `status` is its HTTP status, `latency_ms` from arrival to answer.
  void RecordRequest(int status, int64_t rows, double latency_ms);
  // One model forward over `rows` rows that took `run_ms`.
  void RecordBatch(int64_t rows, double run_ms);

  // {"requests":..,"errors_4xx":..,"errors_5xx":..,"rows":..,"batches":..,"mean_batch":..,
  //  "batch_sizes":{"le":[1,2,4,..],"count":[..]},"latency_ms":{"p50":..,"p99":..,"mean":..,
  //  "le":[..],"count":[..]},"run_ms_mean":..}
  nlohmann::json ToJson() const;

  // Latency quantile (0..1) over the most recent requests; 0 when none.
  double LatencyQuantile(double q) const;

 private:
  static constexpr size_t kRecent = 4096;  // requests kept for quantiles

  mutable std::mutex mu_;
  std::vector<int64_t> batch_bounds_;  // upper bounds: 1, 2, 4, ..., max_batch
  std::vector<int64_t> batch_counts_;
  std::vector<double> latency_bounds_;
  std::vector<int64_t> latency_counts_;  // last bucket = +Inf
  std::vector<double> recent_ms_;        // ring buffer
  size_t recent_next_ = 0;
  int64_t requests_ = 0, errors_4xx_ = 0, errors_5xx_ = 0, rows_ = 0, batches_ = 0, batch_rows_ = 0;
  double latency_sum_ms_ = 0, run_sum_ms_ = 0;
};

}  // namespace stoke::serving
