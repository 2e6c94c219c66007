#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Small readers of /proc used by the launcher and the supervisor. Stateless; thread-safe.
namespace stoke::launch {

struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgrp = 0;
  char state = '?';         // R, S, D, Z, T, X, ...
  int64_t start_ticks = 0;  // field 22: clock ticks after boot when the process started
  bool zombie() const { return state == 'Z' || state == 'X'; }
};

// Parses the text of /proc/<pid>/stat (the command name may hold spaces and parentheses).
std::optional<ProcStat> ParseProcStat(const std::string& text);
// Reads /proc/<pid>/stat; nullopt when the process does not exist.
std::optional<ProcStat> ReadProcStat(pid_t pid);

// Whether `pid` is the same, still running (not zombie) process that started at `start_ticks`.
bool IsSameLiveProcess(pid_t pid, int64_t start_ticks);

// Every process whose parent chain leads to `root` (root excluded), found by walking /proc.
// Zombies are left out unless `include_zombies`. Parents come before their children.
std::vector<pid_t> Descendants(pid_t root, bool include_zombies = false);

// pidfd_open(2) (glibc 2.36's <sys/pidfd.h> lacks C++ linkage, so this wraps the syscall).
int OpenPidFd(pid_t pid);

// Reads a whole small file (procfs, sysfs, cgroupfs); nullopt when it cannot be opened.
std::optional<std::string> ReadSmallFile(const std::string& path);

}  // namespace stoke::launch
