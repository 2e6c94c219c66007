#pragma once

#include <thread>

#include <httplib.h>

namespace stoke::cli::testing {

// An httplib::Server on a free loopback port, serving from a background thread for the life of
// the object. bind_to_any_port() already listens, so clients can connect before the accept loop
// runs: no start-up wait is needed. Register handlers on server() before Start().
class TestServer {
 public:
  TestServer() = default;
  ~TestServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Server& server() { return server_; }
  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace stoke::cli::testing
