#include "launch/host_resources.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>

#include "launch/proc_table.h"

namespace stoke::launch {
namespace {

// Limits at or above this mean "no limit" (cgroup v1 reports a page-rounded LLONG_MAX).
constexpr int64_t kUnlimited = int64_t{1} << 62;

struct Mount {
  std::string root;         // the path inside the hierarchy that is mounted
  std::string mount_point;
};

// Finds the cgroup2 mount (v2) or the v1 mount whose options list the memory controller.
std::vector<Mount> FindCgroupMounts(bool v2) {
  std::vector<Mount> out;
  auto text = ReadSmallFile("/proc/self/mountinfo");
  if (!text) return out;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype, source, options;
    tail >> fstype >> source >> options;
    if (v2 ? fstype != "cgroup2" : (fstype != "cgroup" || ("," + options + ",").find(",memory,") == std::string::npos)) {
      continue;
    }
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, dev;
    Mount m;
    head >> id >> parent >> dev >> m.root >> m.mount_point;
    out.push_back(m);
  }
  return out;
}

// This process's cgroup path in the v2 hierarchy ("0::") or the v1 memory hierarchy.
std::string OwnCgroupPath(bool v2) {
  auto text = ReadSmallFile("/proc/self/cgroup");
  if (!text) return "";
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t first = line.find(':');
    size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    bool match = v2 ? line.compare(0, first, "0") == 0 && controllers.empty()
                    : ("," + controllers + ",").find(",memory,") != std::string::npos;
    if (match) return line.substr(second + 1);
  }
  return "";
}

int64_t ReadLimit(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text || text->starts_with("max")) return kUnlimited;
  char* end = nullptr;
  long long value = std::strtoll(text->c_str(), &end, 10);
  return end == text->c_str() || value <= 0 ? kUnlimited : static_cast<int64_t>(value);
}

// The lowest limit on the way from our cgroup up to the mount point.
int64_t CgroupLimit(bool v2) {
  const std::string file = v2 ? "/memory.max" : "/memory.limit_in_bytes";
  std::string own = OwnCgroupPath(v2);
  int64_t lowest = kUnlimited;
  for (const Mount& m : FindCgroupMounts(v2)) {
    std::string rel = own;
    if (m.root != "/" && rel.starts_with(m.root)) rel = rel.substr(m.root.size());
    if (rel == "/") rel.clear();
    // When our cgroup path is not visible under the mount (a container mounts its own cgroup as
    // the root), the walk below still ends at the mount point itself.
    while (true) {
      lowest = std::min(lowest, ReadLimit(m.mount_point + rel + file));
      if (rel.empty()) break;
      size_t slash = rel.rfind('/');
      rel = slash == std::string::npos ? "" : rel.substr(0, slash);
    }
  }
  return lowest;
}

}  // namespace

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return out;
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET(i, &set)) out.push_back(i);
  }
  return out;
}

int DetectCpuCores() { return std::max<int>(1, static_cast<int>(AllowedCpus().size())); }

int64_t DetectMemoryBytes() {
  int64_t total = 0;
  if (auto meminfo = ReadSmallFile("/proc/meminfo")) {
    size_t pos = meminfo->find("MemTotal:");
    if (pos != std::string::npos) total = std::strtoll(meminfo->c_str() + pos + 9, nullptr, 10) * 1024;
  }
  int64_t limit = std::min(CgroupLimit(true), CgroupLimit(false));
  if (limit < kUnlimited && (total == 0 || limit < total)) return limit;
  return total;
}

}  // namespace stoke::launch
