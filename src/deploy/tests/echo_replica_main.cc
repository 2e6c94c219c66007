// A torch-free stand-in for stoke-serve in the deployment tests: the same flags and HTTP surface
// (the real ReplicaServer and DynamicBatcher), with a "model" file of the form
// "PK\x03\x04 scale=2 hold_ms=20": each row's output is scale * (sum of the row), and every
// forward takes hold_ms, so tests can build up load.
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "serving/replica_server.h"

namespace {
stoke::serving::ReplicaServer* g_server = nullptr;
void HandleStop(int) {
  if (g_server != nullptr) g_server->Stop();
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app("echo replica");
  std::string model, bind = "127.0.0.1", device, input_shape;
  int port = 0, max_batch = 32, threads = 0;
  double max_delay_ms = 5;
  app.add_option("--model", model)->required();
  app.add_option("--bind", bind);
  app.add_option("--port", port);
  app.add_option("--max-batch", max_batch);
  app.add_option("--max-delay-ms", max_delay_ms);
  app.add_option("--threads", threads);
  app.add_option("--device", device);
  app.add_option("--input-shape", input_shape);
  CLI11_PARSE(app, argc, argv);

  std::ifstream in(model, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  double scale = 1;
  int hold_ms = 0;
  std::istringstream words(text.size() > 4 ? text.substr(4) : "");
  for (std::string w; words >> w;) {
    if (w.starts_with("scale=")) scale = std::stod(w.substr(6));
    if (w.starts_with("hold_ms=")) hold_ms = std::stoi(w.substr(8));
  }
  auto run = [scale, hold_ms](const stoke::serving::Tensor& t) -> stoke::Result<stoke::serving::Tensor> {
    if (hold_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    stoke::serving::Tensor out;
    out.shape = {t.rows()};
    int64_t k = t.RowSize();
    for (int64_t r = 0; r < t.rows(); ++r) {
      double s = 0;
      for (int64_t i = 0; i < k; ++i) s += t.values[static_cast<size_t>(r * k + i)];
      out.values.push_back(static_cast<float>(s * scale));
    }
    return out;
  };
  stoke::serving::ServingStats stats(max_batch);
  stoke::serving::DynamicBatcher batcher(
      {.max_batch = max_batch, .max_delay = std::chrono::microseconds(static_cast<int64_t>(max_delay_ms * 1000))}, run,
      &stats);
  stoke::serving::ReplicaOptions options;
  options.bind = bind;
  options.port = port;
  stoke::serving::ReplicaServer server(options, batcher, stats);
  auto bound = server.Bind();
  if (!bound) {
    std::cerr << "error: " << bound.error().message() << "\n";
    return 1;
  }
  std::cout << "echo replica on " << *bound << " scale " << scale << " hold_ms " << hold_ms << std::endl;
  g_server = &server;
  std::signal(SIGTERM, HandleStop);
  std::signal(SIGPIPE, SIG_IGN);
  server.Serve();
  batcher.Stop();
  return 0;
}
