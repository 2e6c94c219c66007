#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "launch/launcher.h"

// The exit-status file the supervisor leaves behind (format in src/launch/README.md).
// Free functions; thread-safe.
namespace stoke::launch {

struct ExitRecord {
  ExitKind kind = ExitKind::kExited;
  int exit_code = 0;
  int signal = 0;
  int64_t child_pid = 0;
  UnixMillis finished_at = 0;
  std::string reason;  // one line
  bool operator==(const ExitRecord&) const = default;
};

std::string_view ExitKindName(ExitKind kind);  // "exited", "signaled", "killed-by-request", "exec-failed"
std::string FormatExitRecord(const ExitRecord& record);
Result<ExitRecord> ParseExitRecord(std::string_view text);

// Writes `<path>.tmp`, fsyncs it and renames it over `path`, so readers see all or nothing.
Status WriteExitRecord(const std::string& path, const ExitRecord& record);
// NotFound when there is no file.
Result<ExitRecord> ReadExitRecord(const std::string& path);

}  // namespace stoke::launch
