#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <httplib.h>

namespace stoke::cli::testing {

// An httplib::Server (or SSLServer) on a free loopback port, serving from a background thread for
// the life of the object. bind_to_any_port() already listens, so clients can connect before the
// accept loop runs: no start-up wait is needed. Register handlers on server() before Start().
// Not thread-safe itself; the handlers run on the server's threads.
class TestServer {
 public:
  TestServer() : server_(std::make_unique<httplib::Server>()) {}
  // HTTPS with the given PEM certificate and key.
  TestServer(const std::string& cert_path, const std::string& key_path)
      : server_(std::make_unique<httplib::SSLServer>(cert_path.c_str(), key_path.c_str())), tls_(true) {}
  ~TestServer() {
    if (thread_.joinable()) {
      // stop() is a no-op until the accept loop runs (httplib 0.11 has no wait_until_ready), so
      // wait for the loop to be up (or to have failed) before stopping it.
      while (!server_->is_running() && !loop_exited_) std::this_thread::yield();
      server_->stop();
      thread_.join();
    }
  }
  httplib::Server& server() { return *server_; }
  bool valid() const { return server_->is_valid(); }
  void Start() {
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] {
      server_->listen_after_bind();
      loop_exited_ = true;
    });
  }
  int port() const { return port_; }
  std::string url() const { return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_); }

 private:
  std::unique_ptr<httplib::Server> server_;
  bool tls_ = false;
  std::thread thread_;
  std::atomic<bool> loop_exited_ = false;
  int port_ = 0;
};

}  // namespace stoke::cli::testing
