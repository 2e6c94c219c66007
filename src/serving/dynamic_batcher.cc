#include "serving/dynamic_batcher.h"

#include <algorithm>
#include <cstring>

namespace stoke::serving {

DynamicBatcher::DynamicBatcher(BatcherOptions options, RunBatchFn run, ServingStats* stats)
    : options_(options), run_(std::move(run)), stats_(stats) {
  options_.max_batch = std::max(1, options_.max_batch);
  thread_ = std::thread([this] { Loop(); });
}

DynamicBatcher::~DynamicBatcher() { Stop(); }

void DynamicBatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  for (Pending& p : queue_) p.done.set_value(Err(Status::Unavailable("the replica is shutting down")));
  queue_.clear();
  queued_rows_ = 0;
}

int64_t DynamicBatcher::queued_rows() const {
  std::lock_guard lock(mu_);
  return queued_rows_;
}

Result<Tensor> DynamicBatcher::Submit(Tensor input) {
  int64_t rows = input.rows();
  if (input.shape.empty() || rows <= 0) return Err(Status::InvalidArgument("the request has no rows", "instances"));
  if (rows > options_.max_batch) {
    return Err(Status::InvalidArgument("the request has " + std::to_string(rows) + " rows; this deployment takes at most " +
                                           std::to_string(options_.max_batch) + " per request (max_batch)",
                                       "instances"));
  }
  std::future<Result<Tensor>> result;
  {
    std::lock_guard lock(mu_);
    if (stop_) return Err(Status::Unavailable("the replica is shutting down"));
    if (queued_rows_ + rows > options_.max_queue_rows) {
      return Err(Status::ResourceExhausted("the replica's queue is full (" + std::to_string(queued_rows_) +
                                           " rows waiting); retry later"));
    }
    Pending& p = queue_.emplace_back();
    p.input = std::move(input);
    p.arrived = std::chrono::steady_clock::now();
    result = p.done.get_future();
    queued_rows_ += rows;
  }
  cv_.notify_all();
  return result.get();
}

int64_t DynamicBatcher::RowsLike(const Tensor& head) const {
  int64_t n = 0;
  for (const Pending& p : queue_) {
    if (p.input.shape.size() == head.shape.size() &&
        std::equal(p.input.shape.begin() + 1, p.input.shape.end(), head.shape.begin() + 1)) {
      n += p.input.rows();
    }
  }
  return n;
}

std::vector<DynamicBatcher::Pending> DynamicBatcher::TakeBatch() {
  std::vector<Pending> batch;
  const std::vector<int64_t> shape = queue_.front().input.shape;
  int64_t rows = 0;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const Tensor& t = it->input;
    bool same = t.shape.size() == shape.size() && std::equal(t.shape.begin() + 1, t.shape.end(), shape.begin() + 1);
    if (same) {
      if (rows + t.rows() > options_.max_batch) break;  // FIFO: do not let later requests overtake
      rows += t.rows();
      queued_rows_ -= t.rows();
      batch.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  return batch;
}

void DynamicBatcher::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    // Wait for the head's batch to fill, but never past the head's deadline.
    auto deadline = queue_.front().arrived + options_.max_delay;
    cv_.wait_until(lock, deadline, [&] {
      return stop_ || queue_.empty() || RowsLike(queue_.front().input) >= options_.max_batch;
    });
    if (stop_) return;
    if (queue_.empty()) continue;
    std::vector<Pending> batch = TakeBatch();
    lock.unlock();
    RunAndDeliver(std::move(batch));
    lock.lock();
  }
}

void DynamicBatcher::RunAndDeliver(std::vector<Pending> batch) {
  if (batch.size() == 1) {
    // No copy: the single request is the batch.
    auto t0 = std::chrono::steady_clock::now();
    Result<Tensor> out = run_(batch[0].input);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (stats_ != nullptr) stats_->RecordBatch(batch[0].input.rows(), ms);
    if (out && out->rows() != batch[0].input.rows()) {
      out = Err(Status::Internal("the model returned " + std::to_string(out->rows()) + " rows for " +
                                 std::to_string(batch[0].input.rows()) + " inputs"));
    }
    batch[0].done.set_value(std::move(out));
    return;
  }
  Tensor input;
  input.shape = batch[0].input.shape;
  int64_t rows = 0;
  for (const Pending& p : batch) rows += p.input.rows();
  input.shape[0] = rows;
  input.values.reserve(static_cast<size_t>(rows * batch[0].input.RowSize()));
  for (const Pending& p : batch) input.values.insert(input.values.end(), p.input.values.begin(), p.input.values.end());

  auto t0 = std::chrono::steady_clock::now();
  Result<Tensor> out = run_(input);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (stats_ != nullptr) stats_->RecordBatch(rows, ms);
  if (out && (out->rows() != rows || out->values.size() % static_cast<size_t>(rows) != 0)) {
    out = Err(Status::Internal("the model returned " + std::to_string(out->rows()) + " rows for " +
                               std::to_string(rows) + " inputs"));
  }
  if (!out) {
    for (Pending& p : batch) p.done.set_value(Err(out.error()));
    return;
  }
  size_t row_size = out->values.size() / static_cast<size_t>(rows);
  size_t offset = 0;
  for (Pending& p : batch) {
    Tensor slice;
    slice.shape = out->shape;
    slice.shape[0] = p.input.rows();
    size_t n = row_size * static_cast<size_t>(p.input.rows());
    slice.values.assign(out->values.begin() + static_cast<std::ptrdiff_t>(offset),
                        out->values.begin() + static_cast<std::ptrdiff_t>(offset + n));
    offset += n;
    p.done.set_value(std::move(slice));
  }
}

}  // namespace stoke::serving
