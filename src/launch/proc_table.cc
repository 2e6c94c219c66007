#include "launch/proc_table.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <deque>
#include <unordered_map>

namespace stoke::launch {

int OpenPidFd(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

std::optional<std::string> ReadSmallFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::optional<ProcStat> ParseProcStat(const std::string& text) {
  // "<pid> (<comm>) <state> <ppid> <pgrp> ..." — comm may contain ") ", so split at the last ')'.
  size_t open_paren = text.find('(');
  size_t close_paren = text.rfind(')');
  if (open_paren == std::string::npos || close_paren == std::string::npos || close_paren < open_paren) {
    return std::nullopt;
  }
  ProcStat st;
  st.pid = static_cast<pid_t>(std::strtol(text.c_str(), nullptr, 10));
  std::vector<std::string_view> fields;  // fields[0] is field 3 (state)
  std::string_view rest(text);
  rest.remove_prefix(close_paren + 1);
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ' && rest[j] != '\n') ++j;
    if (j > i) fields.push_back(rest.substr(i, j - i));
    if (j < rest.size() && rest[j] == '\n') break;
    i = j;
  }
  constexpr size_t kStartTimeIndex = 22 - 3;
  if (fields.size() <= kStartTimeIndex || fields[0].empty()) return std::nullopt;
  st.state = fields[0][0];
  st.ppid = static_cast<pid_t>(std::strtol(std::string(fields[1]).c_str(), nullptr, 10));
  st.pgrp = static_cast<pid_t>(std::strtol(std::string(fields[2]).c_str(), nullptr, 10));
  st.start_ticks = std::strtoll(std::string(fields[kStartTimeIndex]).c_str(), nullptr, 10);
  return st;
}

std::optional<ProcStat> ReadProcStat(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  auto text = ReadSmallFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  return ParseProcStat(*text);
}

bool IsSameLiveProcess(pid_t pid, int64_t start_ticks) {
  auto st = ReadProcStat(pid);
  return st && st->start_ticks == start_ticks && !st->zombie();
}

std::vector<pid_t> Descendants(pid_t root, bool include_zombies) {
  std::unordered_multimap<pid_t, ProcStat> by_parent;
  if (DIR* dir = opendir("/proc")) {
    while (dirent* entry = readdir(dir)) {
      char* end = nullptr;
      long pid = std::strtol(entry->d_name, &end, 10);
      if (pid <= 0 || *end != '\0') continue;
      if (auto st = ReadProcStat(static_cast<pid_t>(pid))) by_parent.emplace(st->ppid, *st);
    }
    closedir(dir);
  }
  std::vector<pid_t> out;
  std::deque<pid_t> queue{root};
  while (!queue.empty()) {
    pid_t parent = queue.front();
    queue.pop_front();
    auto [begin, end] = by_parent.equal_range(parent);
    for (auto it = begin; it != end; ++it) {
      const ProcStat& child = it->second;
      if (child.pid == root) continue;
      if (include_zombies || !child.zombie()) out.push_back(child.pid);
      queue.push_back(child.pid);
    }
  }
  return out;
}

}  // namespace stoke::launch
