#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "launch/proc_table.h"

// Helpers for tests that run real processes. Not thread-safe.
namespace stoke::launch::testing {

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "stoke-launch-XXXXXX").string();
    path_ = mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A FIFO the test holds open read-write: jobs can open it either way without blocking, and the
// test can wait for a line with a timeout (a condition wait, not a sleep).
class Fifo {
 public:
  explicit Fifo(std::string path) : path_(std::move(path)) {
    mkfifo(path_.c_str(), 0600);
    fd_ = open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  }
  ~Fifo() {
    if (fd_ >= 0) close(fd_);
  }
  const std::string& path() const { return path_; }
  bool Send(const std::string& text) { return write(fd_, text.data(), text.size()) == static_cast<ssize_t>(text.size()); }
  // Reads up to and including a newline; nullopt on timeout.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    while (true) {
      char c;
      ssize_t n = read(fd_, &c, 1);
      if (n == 1) {
        if (c == '\n') return line;
        line.push_back(c);
        continue;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
      poll(&p, 1, static_cast<int>(left.count()));
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// Waits until `pid` exits (any process, via pidfd); false on timeout.
inline bool WaitForProcessExit(pid_t pid, std::chrono::milliseconds timeout) {
  int fd = OpenPidFd(pid);
  if (fd < 0) return true;
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  int n = poll(&p, 1, static_cast<int>(timeout.count()));
  close(fd);
  return n > 0;
}

inline bool IsAlive(pid_t pid) {
  auto st = ReadProcStat(pid);
  return st && !st->zombie();
}

inline std::string ReadFile(const std::string& path) { return ReadSmallFile(path).value_or(""); }

}  // namespace stoke::launch::testing
