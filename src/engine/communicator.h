#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "elastic/kv_store.h"

namespace stoke::engine {

// Collectives among the ranks of one generation. Any failure (peer lost, timeout) is
// kUnavailable, which means: this communicator is dead, regroup. Never does rendezvous itself
// beyond its creation. Not thread-safe (one training thread uses it).
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Sums each tensor in place across ranks; all are launched before any is waited for.
  virtual Status AllReduceSum(std::vector<at::Tensor>& tensors) = 0;
  // Starts summing `tensor` in place; it is complete after the next WaitStarted(). Lets gradient
  // buckets go out while backward is still producing the rest. Every rank must start the same
  // tensors in the same order. The default completes it at once.
  virtual Status StartAllReduceSum(at::Tensor& tensor) {
    std::vector<at::Tensor> one{tensor};
    return AllReduceSum(one);
  }
  // Waits for every StartAllReduceSum since the last call (all of them, even after a failure);
  // returns the first failure.
  virtual Status WaitStarted() { return Status::Ok(); }
  virtual Status Broadcast(at::Tensor& tensor, int root) = 0;
};

// The world of one: every collective is a no-op.
class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  Status AllReduceSum(std::vector<at::Tensor>&) override { return Status::Ok(); }
  Status Broadcast(at::Tensor&, int) override { return Status::Ok(); }
};

struct GlooOptions {
  std::chrono::milliseconds timeout{10000};  // connection setup and every collective
  std::string hostname = "127.0.0.1";        // address this worker's Gloo device binds to
  int threads = 2;
  // Polled while waiting for peers during setup; returning true abandons the setup (for
  // example, a newer generation superseded this one). May be empty.
  std::function<bool()> abandon;
};

// A Gloo process group whose connection setup goes through `store` (already scoped to one
// generation, e.g. PrefixKvStore("gen/7/pg/")). `store` must outlive the communicator.
Result<std::unique_ptr<Communicator>> CreateGlooCommunicator(elastic::KvStore& store, int rank, int world_size,
                                                             const GlooOptions& options);

}  // namespace stoke::engine
