#include "serving/replica_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include "serving/predict_codec.h"

namespace stoke::serving {

using nlohmann::json;

ReplicaServer::ReplicaServer(ReplicaOptions options, DynamicBatcher& batcher, ServingStats& stats)
    : options_(std::move(options)), batcher_(batcher), stats_(stats), http_(std::make_unique<httplib::Server>()) {
  good_shape_ = options_.input_shape;
  http_->new_task_queue = [n = options_.http_threads] { return new httplib::ThreadPool(static_cast<size_t>(n)); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_keep_alive_max_count(100000);
  http_->set_tcp_nodelay(true);  // small JSON answers: no Nagle + delayed-ACK stalls
  // Debian's libcpp-httplib listens with a backlog of 5: a burst of new connections overflows it
  // and clients get resets. Keep the socket so Bind() can listen again with a deeper queue.
  http_->set_socket_options([this](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = sock;
  });
  auto predict = [this](const httplib::Request& req, httplib::Response& res) {
    auto [status, body] = Predict(req.body);
    res.status = status;
    res.set_content(body, "application/json");
  };
  http_->Post("/predict", predict);
  http_->Post("/v1/predict", predict);
  http_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    json doc = {{"status", "ok"}, {"model", options_.model_name}, {"in_flight", in_flight_.load()},
                {"queued_rows", batcher_.queued_rows()}};
    std::lock_guard lock(shape_mu_);
    if (good_shape_) doc["input_shape"] = *good_shape_;
    res.set_content(doc.dump(), "application/json");
  });
  http_->Get("/stats", [this](const httplib::Request&, httplib::Response& res) {
    json doc = stats_.ToJson();
    doc["in_flight"] = in_flight_.load();
    doc["queued_rows"] = batcher_.queued_rows();
    doc["max_batch"] = batcher_.options().max_batch;
    doc["max_delay_ms"] = static_cast<double>(batcher_.options().max_delay.count()) / 1000.0;
    res.set_content(doc.dump(), "application/json");
  });
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    Status s = res.status == 404   ? Status::NotFound("no route " + req.method + " " + req.path)
               : res.status == 413 ? Status::InvalidArgument("the body is too large", "body")
                                   : Status(StatusCode::kInvalidArgument, "bad request");
    res.set_content(ErrorJson(s), "application/json");
  });
}

ReplicaServer::~ReplicaServer() { Stop(); }

Result<int> ReplicaServer::Bind() {
  int port = options_.port == 0 ? http_->bind_to_any_port(options_.bind)
                                : (http_->bind_to_port(options_.bind, options_.port) ? options_.port : -1);
  if (port <= 0) return Err(Status::Unavailable("cannot bind " + options_.bind + ":" + std::to_string(options_.port)));
  if (listen_fd_ >= 0) ::listen(listen_fd_, 4096);  // Linux: a second listen() only resizes the queue
  return port;
}

void ReplicaServer::Serve() { http_->listen_after_bind(); }

void ReplicaServer::Stop() {
  if (http_) http_->stop();
}

Status ReplicaServer::CheckShape(const std::vector<int64_t>& row_shape) const {
  std::lock_guard lock(shape_mu_);
  if (good_shape_ && *good_shape_ != row_shape) {
    return Status::InvalidArgument("rows have shape " + ShapeString(row_shape) + " but the model takes rows of shape " +
                                       ShapeString(*good_shape_),
                                   "instances");
  }
  if (auto it = bad_shapes_.find(row_shape); it != bad_shapes_.end()) {
    return Status::InvalidArgument(it->second, "instances");
  }
  return Status::Ok();
}

void ReplicaServer::LearnShape(const std::vector<int64_t>& row_shape, const Status& outcome) {
  std::lock_guard lock(shape_mu_);
  if (outcome.ok()) {
    if (!good_shape_) good_shape_ = row_shape;
  } else if (outcome.code() == StatusCode::kInvalidArgument && bad_shapes_.size() < 64) {
    bad_shapes_[row_shape] = outcome.message();
  }
}

std::pair<int, std::string> ReplicaServer::Predict(std::string_view body) {
  auto t0 = std::chrono::steady_clock::now();
  ++in_flight_;
  auto finish = [&](int status, std::string text, int64_t rows) {
    --in_flight_;
    stats_.RecordRequest(status, rows,
                         std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    return std::pair<int, std::string>(status, std::move(text));
  };
  auto fail = [&](const Status& s) { return finish(HttpStatusOf(s), ErrorJson(s), 0); };

  auto request = ParsePredictRequest(body, batcher_.options().max_batch);
  if (!request) return fail(request.error());
  std::vector<int64_t> row_shape = request->input.RowShape();
  if (Status s = CheckShape(row_shape); !s.ok()) return fail(s);
  int64_t rows = request->input.rows();
  auto output = batcher_.Submit(std::move(request->input));  // Format needs only wml and group_rows
  LearnShape(row_shape, output ? Status::Ok() : output.error());
  if (!output) return fail(output.error());
  return finish(200, FormatPredictions(*request, *output), rows);
}

}  // namespace stoke::serving
