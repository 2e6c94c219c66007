// stoke-serve: one scoring replica. Loads a TorchScript module and serves it over HTTP with
// dynamic batching. A deployment runs one of these per replica, as a Stoke job.
#include <csignal>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "serving/replica_server.h"
#include "serving/torch_runner.h"

namespace {

stoke::serving::ReplicaServer* g_server = nullptr;

void HandleStop(int) {
  if (g_server != nullptr) g_server->Stop();
}

// "64" or "3,28,28".
bool ParseShape(const std::string& text, std::vector<int64_t>& shape) {
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    try {
      size_t used = 0;
      long long v = std::stoll(part, &used);
      if (used != part.size() || v <= 0) return false;
      shape.push_back(v);
    } catch (const std::exception&) {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("stoke-serve: serve a TorchScript model over HTTP with dynamic batching");
  stoke::serving::TorchRunnerOptions model;
  std::string bind = "127.0.0.1", input_shape;
  int port = 0, max_batch = 32, http_threads = 64;
  double max_delay_ms = 5;
  app.add_option("--model", model.model_path, "TorchScript model file")->required();
  app.add_option("--port", port, "Port (0 = any free port; the chosen port is printed)")->check(CLI::Range(0, 65535));
  app.add_option("--bind", bind, "Address to listen on")->capture_default_str();
  app.add_option("--max-batch", max_batch, "Most rows in one forward (and per request)")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  app.add_option("--max-delay-ms", max_delay_ms, "Longest a request waits for a batch to fill")
      ->check(CLI::Range(0.0, 10000.0))
      ->capture_default_str();
  app.add_option("--threads", model.threads, "Intra-op threads (0 = libtorch default)")->check(CLI::Range(0, 1024));
  app.add_option("--http-threads", http_threads, "HTTP worker threads")->check(CLI::Range(1, 4096));
  app.add_option("--device", model.device, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--input-shape", input_shape, "Shape of one input row, e.g. 64 or 3,28,28 (default: learnt)");
  CLI11_PARSE(app, argc, argv);

  stoke::serving::ReplicaOptions options;
  options.bind = bind;
  options.port = port;
  options.http_threads = http_threads;
  options.model_name = model.model_path;
  if (!input_shape.empty()) {
    std::vector<int64_t> shape;
    if (!ParseShape(input_shape, shape)) {
      std::cerr << "error: --input-shape must be positive integers separated by commas\n";
      return 2;
    }
    options.input_shape = shape;
  }
  auto run = stoke::serving::LoadTorchRunner(model);
  if (!run) {
    std::cerr << "error: " << run.error().message() << "\n";
    return 2;
  }
  stoke::serving::ServingStats stats(max_batch);
  stoke::serving::BatcherOptions batching;
  batching.max_batch = max_batch;
  batching.max_delay = std::chrono::microseconds(static_cast<int64_t>(max_delay_ms * 1000));
  stoke::serving::DynamicBatcher batcher(batching, std::move(*run), &stats);
  stoke::serving::ReplicaServer server(options, batcher, stats);
  auto bound = server.Bind();
  if (!bound) {
    std::cerr << "error: " << bound.error().message() << "\n";
    return 1;
  }
  std::cout << "stoke-serve listening on " << bind << ":" << *bound << " model " << model.model_path
            << " max_batch " << max_batch << " max_delay_ms " << max_delay_ms << std::endl;
  g_server = &server;
  std::signal(SIGTERM, HandleStop);
  std::signal(SIGINT, HandleStop);
  std::signal(SIGPIPE, SIG_IGN);
  server.Serve();
  g_server = nullptr;
  batcher.Stop();
  return 0;
}
