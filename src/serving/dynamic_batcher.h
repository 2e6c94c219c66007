#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "serving/serving_stats.h"
#include "serving/tensor.h"

namespace stoke::serving {

struct BatcherOptions {
  int max_batch = 32;                               // most rows in one forward
  std::chrono::microseconds max_delay{5000};        // longest a request waits for company
  int64_t max_queue_rows = 8192;                    // beyond this Submit answers ResourceExhausted
};

// Dynamic batching: callers Submit() a tensor of rows and block; one batcher thread merges queued
// requests whose rows have the same shape (FIFO, up to max_batch rows, waiting at most max_delay
// for the batch to fill), runs one forward, and hands each caller its slice of the output.
// A request never shares a forward with rows of another shape, so a bad shape fails only the
// requests that sent it. Thread-safe.
class DynamicBatcher {
 public:
  // Runs the model on input [n, ...]; the output's dimension 0 must be n.
  using RunBatchFn = std::function<Result<Tensor>(const Tensor& input)>;

  DynamicBatcher(BatcherOptions options, RunBatchFn run, ServingStats* stats = nullptr);
  ~DynamicBatcher();
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // Blocks until the rows' outputs are ready. InvalidArgument when `input` has no rows or more
  // than max_batch; ResourceExhausted when the queue is full; Unavailable after Stop().
  Result<Tensor> Submit(Tensor input);

  // Fails queued requests with Unavailable and joins the thread. Idempotent.
  void Stop();

  int64_t queued_rows() const;
  const BatcherOptions& options() const { return options_; }

 private:
  struct Pending {
    Tensor input;
    std::promise<Result<Tensor>> done;
    std::chrono::steady_clock::time_point arrived;
  };

  void Loop();
  // Removes from the queue the FIFO run of requests with the head's row shape that fits max_batch.
  std::vector<Pending> TakeBatch();   // REQUIRES: mu_ held, queue non-empty
  int64_t RowsLike(const Tensor& head) const;  // REQUIRES: mu_ held
  void RunAndDeliver(std::vector<Pending> batch);

  BatcherOptions options_;
  RunBatchFn run_;
  ServingStats* stats_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // GUARDED_BY(mu_)
  int64_t queued_rows_ = 0;    // GUARDED_BY(mu_)
  bool stop_ = false;          // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace stoke::serving
