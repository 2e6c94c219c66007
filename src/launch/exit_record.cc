#include "launch/exit_record.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "launch/proc_table.h"

namespace stoke::launch {
namespace {

constexpr std::string_view kHeader = "stoke-exit-status v1";

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::string_view ExitKindName(ExitKind kind) {
  switch (kind) {
    case ExitKind::kExited: return "exited";
    case ExitKind::kSignaled: return "signaled";
    case ExitKind::kKilledByRequest: return "killed-by-request";
    case ExitKind::kExecFailed: return "exec-failed";
  }
  return "exited";
}

std::string FormatExitRecord(const ExitRecord& r) {
  std::string out(kHeader);
  out += "\nended=" + std::string(ExitKindName(r.kind));
  out += "\nexit_code=" + std::to_string(r.exit_code);
  out += "\nsignal=" + std::to_string(r.signal);
  out += "\nchild_pid=" + std::to_string(r.child_pid);
  out += "\nfinished_at_ms=" + std::to_string(r.finished_at);
  out += "\nreason=" + OneLine(r.reason) + "\n";
  return out;
}

Result<ExitRecord> ParseExitRecord(std::string_view text) {
  size_t eol = text.find('\n');
  if (text.substr(0, eol) != kHeader) return Err(Status::InvalidArgument("not a stoke exit-status file"));
  ExitRecord r;
  bool have_kind = false;
  while (eol != std::string_view::npos) {
    text.remove_prefix(eol + 1);
    eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return Err(Status::InvalidArgument("bad line in exit-status file"));
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    bool ok = true;
    if (key == "ended") {
      have_kind = true;
      if (value == "exited") r.kind = ExitKind::kExited;
      else if (value == "signaled") r.kind = ExitKind::kSignaled;
      else if (value == "killed-by-request") r.kind = ExitKind::kKilledByRequest;
      else if (value == "exec-failed") r.kind = ExitKind::kExecFailed;
      else ok = false;
    } else if (key == "exit_code") {
      ok = ParseNumber(value, r.exit_code);
    } else if (key == "signal") {
      ok = ParseNumber(value, r.signal);
    } else if (key == "child_pid") {
      ok = ParseNumber(value, r.child_pid);
    } else if (key == "finished_at_ms") {
      ok = ParseNumber(value, r.finished_at);
    } else if (key == "reason") {
      r.reason = std::string(value);
    }  // unknown keys are skipped: newer writers may add fields
    if (!ok) return Err(Status::InvalidArgument("bad value for " + std::string(key) + " in exit-status file"));
  }
  if (!have_kind) return Err(Status::InvalidArgument("exit-status file has no 'ended' line"));
  return r;
}

Status WriteExitRecord(const std::string& path, const ExitRecord& record) {
  std::string tmp = path + ".tmp";
  std::string body = FormatExitRecord(record);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Internal("open " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < body.size()) {
    ssize_t n = write(fd, body.data() + done, body.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Status::Internal("write " + tmp + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  fsync(fd);
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::Internal("rename " + tmp + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<ExitRecord> ReadExitRecord(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return Err(Status::NotFound("no exit-status file at " + path));
  auto record = ParseExitRecord(*text);
  if (!record) return Err(record.error().WithContext(path));
  return record;
}

}  // namespace stoke::launch
