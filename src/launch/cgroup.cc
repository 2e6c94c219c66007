#include "launch/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include "launch/proc_table.h"

namespace stoke::launch {
namespace {

bool WriteFile(const std::string& path, std::string_view value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  close(fd);
  return ok;
}

bool HasWord(const std::string& text, std::string_view word) {
  std::istringstream in(text);
  std::string token;
  while (in >> token) {
    if (token == word) return true;
  }
  return false;
}

bool UsableForJobs(const std::string& dir) {
  if (dir.empty() || access(dir.c_str(), W_OK) != 0) return false;
  auto controllers = ReadSmallFile(dir + "/cgroup.controllers");
  if (!controllers || !HasWord(*controllers, "memory")) return false;
  auto subtree = ReadSmallFile(dir + "/cgroup.subtree_control");
  if (subtree && HasWord(*subtree, "memory")) return true;
  // Fails with EBUSY in a non-root cgroup that holds processes (the "no internal processes" rule).
  return WriteFile(dir + "/cgroup.subtree_control", "+memory");
}

}  // namespace

std::string DetectCgroupRoot() {
  // The cgroup2 mount: "<id> <parent> <dev> <root> <mountpoint> ... - cgroup2 <src> <opts>".
  std::string mount_point, mount_root;
  if (auto mountinfo = ReadSmallFile("/proc/self/mountinfo")) {
    std::istringstream lines(*mountinfo);
    std::string line;
    while (std::getline(lines, line)) {
      size_t dash = line.find(" - ");
      if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
      std::istringstream fields(line.substr(0, dash));
      std::string id, parent, dev;
      fields >> id >> parent >> dev >> mount_root >> mount_point;
      break;
    }
  }
  if (mount_point.empty()) return "";
  std::string own_path;  // "0::/some/path" in /proc/self/cgroup
  if (auto cgroup = ReadSmallFile("/proc/self/cgroup")) {
    std::istringstream lines(*cgroup);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("0::", 0) == 0) own_path = line.substr(3);
    }
  }
  std::vector<std::string> candidates;
  if (!own_path.empty() && own_path != "/") {
    if (mount_root == "/") {
      candidates.push_back(mount_point + own_path);
    } else if (own_path.rfind(mount_root, 0) == 0) {
      candidates.push_back(mount_point + own_path.substr(mount_root.size()));
    }
  }
  candidates.push_back(mount_point);
  for (const auto& dir : candidates) {
    if (UsableForJobs(dir)) return dir;
  }
  return "";
}

Result<std::unique_ptr<JobCgroup>> JobCgroup::Create(const std::string& root, JobId job_id,
                                                     int64_t memory_bytes) {
  std::string path = root + "/stoke-job-" + std::to_string(job_id);
  if (mkdir(path.c_str(), 0755) != 0) {
    int err = errno;
    // A stale cgroup from an earlier run of the same job: reuse is unsafe, remove it if empty.
    if (err != EEXIST || rmdir(path.c_str()) != 0 || mkdir(path.c_str(), 0755) != 0) {
      return Err(Status::Unavailable("mkdir " + path + ": " + std::strerror(err)));
    }
  }
  if (memory_bytes > 0) {
    if (!WriteFile(path + "/memory.max", std::to_string(memory_bytes))) {
      int err = errno;
      rmdir(path.c_str());
      return Err(Status::Unavailable("write " + path + "/memory.max: " + std::strerror(err)));
    }
    WriteFile(path + "/memory.swap.max", "0");   // absent without swap accounting: fine
    WriteFile(path + "/memory.oom.group", "1");  // an OOM kills the whole job, not one random process
  }
  int fd = open((path + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    rmdir(path.c_str());
    return Err(Status::Unavailable("open " + path + "/cgroup.procs: " + std::strerror(err)));
  }
  return std::unique_ptr<JobCgroup>(new JobCgroup(std::move(path), fd));
}

JobCgroup::~JobCgroup() {
  if (procs_fd_ >= 0) close(procs_fd_);
}

bool JobCgroup::KillAll() { return WriteFile(path_ + "/cgroup.kill", "1"); }

bool JobCgroup::OomKilled() const {
  auto events = ReadSmallFile(path_ + "/memory.events");
  if (!events) return false;
  size_t pos = events->find("oom_kill ");
  return pos != std::string::npos && std::strtoll(events->c_str() + pos + 9, nullptr, 10) > 0;
}

Status JobCgroup::Remove() {
  if (rmdir(path_.c_str()) != 0 && errno != ENOENT) {
    return Status::Unavailable("rmdir " + path_ + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace stoke::launch
