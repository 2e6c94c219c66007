#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "serving/dynamic_batcher.h"
#include "serving/serving_stats.h"

namespace httplib {
class Server;
}

namespace stoke::serving {

struct ReplicaOptions {
  std::string bind = "127.0.0.1";
  int port = 0;                      // 0 = any free port
  int http_threads = 64;
  size_t max_body_bytes = 64u << 20;
  // Shape of one input row when known up front; otherwise learnt from the first good forward.
  std::optional<std::vector<int64_t>> input_shape;
  std::string model_name;            // shown by /healthz
};

// The HTTP face of one replica: POST /predict (and /v1/predict), GET /healthz, GET /stats.
// Requests go through the dynamic batcher. Once a row shape has run (or was given), other shapes
// are refused with 400 before they reach the model; a shape the model rejected is remembered and
// refused the same way. Thread-safe once started.
class ReplicaServer {
 public:
  ReplicaServer(ReplicaOptions options, DynamicBatcher& batcher, ServingStats& stats);
  ~ReplicaServer();

  Result<int> Bind();  // the bound port
  void Serve();        // blocks until Stop()
  void Stop();

  // The answer for one /predict body: (HTTP status, JSON body). Public for tests.
  std::pair<int, std::string> Predict(std::string_view body);

 private:
  Status CheckShape(const std::vector<int64_t>& row_shape) const;
  void LearnShape(const std::vector<int64_t>& row_shape, const Status& outcome);

  ReplicaOptions options_;
  DynamicBatcher& batcher_;
  ServingStats& stats_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<int64_t> in_flight_{0};
  int listen_fd_ = -1;

  mutable std::mutex shape_mu_;
  std::optional<std::vector<int64_t>> good_shape_;             // GUARDED_BY(shape_mu_)
  std::map<std::vector<int64_t>, std::string> bad_shapes_;     // GUARDED_BY(shape_mu_): shape -> why
};

}  // namespace stoke::serving
