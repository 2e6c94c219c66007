#include "launch/local_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "launch/cgroup.h"
#include "launch/exit_record.h"
#include "launch/proc_table.h"
#include "launch/supervisor_spec.h"

extern char** environ;

namespace stoke::launch {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kControlFd = 3;  // where the supervisor finds its control socket
// Terminate(force): how long the supervisor gets to record the kill before it is SIGKILLed too.
constexpr auto kForceSupervisorWait = std::chrono::seconds(2);

std::string Errno(std::string_view what) { return std::string(what) + ": " + std::strerror(errno); }

bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

Status Validate(const LaunchSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return Status::InvalidArgument("empty command", "argv");
  if (spec.log_path.empty()) return Status::InvalidArgument("log path is required", "log_path");
  if (spec.status_path.empty()) return Status::InvalidArgument("status path is required", "status_path");
  if (spec.grace_seconds < 0) return Status::InvalidArgument("grace must be >= 0", "grace_seconds");
  if (spec.memory_bytes < 0) return Status::InvalidArgument("memory must be >= 0", "memory_bytes");
  for (const auto& arg : spec.argv) {
    if (HasNul(arg)) return Status::InvalidArgument("argument contains a NUL byte", "argv");
  }
  for (const auto& [key, value] : spec.env) {
    if (key.empty() || key.find('=') != std::string::npos || HasNul(key) || HasNul(value)) {
      return Status::InvalidArgument("bad environment variable '" + key + "'", "env");
    }
  }
  for (int core : spec.cpu_cores) {
    if (core < 0) return Status::InvalidArgument("negative CPU core", "cpu_cores");
  }
  if (HasNul(spec.working_dir) || HasNul(spec.log_path) || HasNul(spec.status_path)) {
    return Status::InvalidArgument("path contains a NUL byte");
  }
  return Status::Ok();
}

// The supervisor runs in "/", so relative paths are resolved here.
std::string Absolute(const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.string();
}

// Waits up to `timeout` for `pid` to exit (works for processes that are not our children).
bool WaitForExit(pid_t pid, int64_t start_ticks, std::chrono::milliseconds timeout) {
  int fd = OpenPidFd(pid);
  if (fd < 0) return true;  // ESRCH: already gone
  bool exited = true;
  if (IsSameLiveProcess(pid, start_ticks)) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    int n;
    while ((n = poll(&p, 1, static_cast<int>(timeout.count()))) < 0 && errno == EINTR) {
    }
    // A zombie child of ours also reads as exited here: it no longer runs.
    exited = n > 0 || !IsSameLiveProcess(pid, start_ticks);
  }
  close(fd);
  return exited;
}

// Spawns the supervisor in a new session with default signal state; `control_fd` becomes its fd 3.
Result<pid_t> SpawnSupervisor(const LocalLauncherOptions& options, JobId job_id, int control_fd) {
  std::vector<std::string> args{options.supervisor_exe};
  args.insert(args.end(), options.supervisor_args_prefix.begin(), options.supervisor_args_prefix.end());
  args.emplace_back("--job-id");
  args.push_back(std::to_string(job_id));
  args.emplace_back("--control-fd");
  args.push_back(std::to_string(kControlFd));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, control_fd, kControlFd);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  // Own session: no controlling terminal, and out of the server's process group, so signals
  // meant for the server (Ctrl-C, a supervisor's kill of the group) do not reach the job.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, options.supervisor_exe.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Err(Status::Internal("spawn supervisor " + options.supervisor_exe + ": " + std::strerror(rc)));
  }
  return pid;
}

// Reads the supervisor's one-line reply (until newline or EOF) or fails at the deadline.
Result<std::string> ReadReply(int fd, SteadyClock::time_point deadline) {
  std::string reply;
  char buf[1024];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return Err(Status::DeadlineExceeded("supervisor did not report in time"));
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Err(Status::Internal(Errno("poll supervisor socket")));
    if (n == 0) continue;
    ssize_t got = read(fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    reply.append(buf, static_cast<size_t>(got));
    if (reply.back() == '\n') break;  // one line; waiting for EOF would cost another wake-up
  }
  while (!reply.empty() && reply.back() == '\n') reply.pop_back();
  return reply;
}

}  // namespace

LocalLauncherOptions DefaultLocalLauncherOptions() {
  LocalLauncherOptions options;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return options;
  std::filesystem::path sibling = self.parent_path() / "stoke-supervisor";
  if (access(sibling.c_str(), X_OK) == 0) {
    options.supervisor_exe = sibling.string();
    options.supervisor_args_prefix = {};
  } else {
    options.supervisor_exe = self.string();
  }
  return options;
}

Result<std::unique_ptr<LocalLauncher>> LocalLauncher::Create(LocalLauncherOptions options) {
  if (options.supervisor_exe.empty() || access(options.supervisor_exe.c_str(), X_OK) != 0) {
    return Err(Status::InvalidArgument("supervisor executable not runnable: " + options.supervisor_exe,
                                       "supervisor_exe"));
  }
  std::string root;
  if (options.cgroup_root.empty()) {
    root = DetectCgroupRoot();
  } else if (options.cgroup_root != "none") {
    root = options.cgroup_root;
    if (access((root + "/cgroup.procs").c_str(), W_OK) != 0) {
      return Err(Status::InvalidArgument("not a writable cgroup v2 directory: " + root, "cgroup_root"));
    }
  }
  return std::unique_ptr<LocalLauncher>(new LocalLauncher(std::move(options), std::move(root)));
}

Result<LaunchResult> LocalLauncher::Launch(const LaunchSpec& spec) {
  STOKE_RETURN_IF_ERROR(Validate(spec));
  ReapChildren();
  SupervisorSpec sup{.launch = spec, .cgroup_root = cgroup_root_};
  sup.launch.log_path = Absolute(spec.log_path);
  sup.launch.status_path = Absolute(spec.status_path);
  sup.launch.working_dir = Absolute(spec.working_dir);
  // A status file from an earlier run of this job would be mistaken for this run's result.
  unlink(sup.launch.status_path.c_str());
  unlink((sup.launch.status_path + ".tmp").c_str());
  std::string encoded = EncodeSupervisorSpec(sup);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Err(Status::Internal(Errno("socketpair")));
  }
  int ours = sv[0];
  int theirs = sv[1];
  if (theirs <= kControlFd) {  // dup2 onto the same number would keep close-on-exec set
    theirs = fcntl(sv[1], F_DUPFD_CLOEXEC, kControlFd + 1);
    close(sv[1]);
  }
  auto spawned = SpawnSupervisor(options_, spec.job_id, theirs);
  close(theirs);
  if (!spawned) {
    close(ours);
    return Err(spawned.error());
  }
  const pid_t pid = *spawned;
  auto stat = ReadProcStat(pid);  // its start time is fixed at fork, exec does not change it

  size_t sent = 0;
  while (sent < encoded.size()) {
    ssize_t n = send(ours, encoded.data() + sent, encoded.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the supervisor died early; its reply (or lack of one) tells why
    sent += static_cast<size_t>(n);
  }
  shutdown(ours, SHUT_WR);
  auto reply = ReadReply(ours, SteadyClock::now() + options_.start_timeout);
  close(ours);

  auto fail = [&](Status status) -> Result<LaunchResult> {
    if (!reply) kill(pid, SIGKILL);
    int wait_status = 0;
    while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    return Err(status.WithContext("launch job " + std::to_string(spec.job_id)));
  };
  if (!reply) return fail(reply.error());
  if (!stat) return fail(Status::Internal("supervisor " + std::to_string(pid) + " has no /proc entry"));

  // "started <child> <enforcement>" | "exec-failed <child> <enforcement> <reason>" | "error <message>"
  std::string_view line = *reply;
  auto word = [&line]() {
    size_t sp = line.find(' ');
    std::string_view w = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    return std::string(w);
  };
  std::string verb = word();
  if (verb == "error") return fail(Status::FailedPrecondition(std::string(line)));
  if (verb != "started" && verb != "exec-failed") {
    return fail(Status::Internal(reply->empty() ? "supervisor exited without reporting"
                                                : "unexpected supervisor reply: " + *reply));
  }
  LaunchResult result;
  result.handle = ProcessHandle{.pid = pid, .start_ticks = stat->start_ticks};
  result.child_pid = std::strtoll(word().c_str(), nullptr, 10);
  result.memory_enforcement = word();
  if (verb == "exec-failed") result.exec_error = std::string(line);
  std::lock_guard lock(mu_);
  children_.insert(pid);
  return result;
}

ProcessStatus LocalLauncher::Poll(const ProcessHandle& handle, const std::string& status_path) {
  ReapChildren();
  const pid_t pid = static_cast<pid_t>(handle.pid);
  auto stat = ReadProcStat(pid);
  bool same = stat && stat->start_ticks == handle.start_ticks;
  ProcessStatus status;
  if (same && !stat->zombie()) {
    status.state = ProcessState::kRunning;
    return status;
  }

  auto record = ReadExitRecord(Absolute(status_path));
  if (record) {
    status.state = ProcessState::kExited;
    status.exit_kind = record->kind;
    status.exit_code = record->exit_code;
    status.signal = record->signal;
    status.reason = record->reason;
    return status;
  }
  ProcessStatus& gone = status;
  gone.state = ProcessState::kGone;
  std::string who = "supervisor " + std::to_string(handle.pid);
  if (record.error().code() != StatusCode::kNotFound) {
    gone.reason = who + " ended; exit status unreadable: " + record.error().message();
  } else if (same) {
    gone.reason = who + " ended without writing an exit status";
  } else if (stat) {
    gone.reason = "pid " + std::to_string(handle.pid) +
                  " belongs to another process now (start time differs); no exit status";
  } else {
    gone.reason = who + " no longer exists and left no exit status";
  }
  return status;
}

Status LocalLauncher::Terminate(const ProcessHandle& handle, bool force) {
  ReapChildren();
  const pid_t pid = static_cast<pid_t>(handle.pid);
  if (!IsSameLiveProcess(pid, handle.start_ticks)) return Status::Ok();
  // The supervisor records the stop as requested, stops the tree and writes the exit status.
  if (kill(pid, SIGTERM) != 0 && errno != ESRCH) return Status::Internal(Errno("kill supervisor"));
  if (!force) return Status::Ok();

  // Kill the tree below the supervisor first: while it lives, orphans are re-parented to it
  // (it is their subreaper) and stay findable. Repeat to catch processes forked meanwhile.
  auto deadline = SteadyClock::now() + kForceSupervisorWait;
  while (SteadyClock::now() < deadline) {
    std::vector<pid_t> tree = Descendants(pid);
    if (tree.empty()) break;
    for (pid_t p : tree) kill(p, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let the kernel finish the kills
  }
  if (!WaitForExit(pid, handle.start_ticks, kForceSupervisorWait)) {
    if (IsSameLiveProcess(pid, handle.start_ticks)) kill(pid, SIGKILL);
    WaitForExit(pid, handle.start_ticks, kForceSupervisorWait);
  }
  ReapChildren();
  if (IsSameLiveProcess(pid, handle.start_ticks)) {
    return Status::Internal("supervisor " + std::to_string(pid) + " survived SIGKILL");
  }
  return Status::Ok();
}

void LocalLauncher::ReapChildren() {
  std::lock_guard lock(mu_);
  for (auto it = children_.begin(); it != children_.end();) {
    int status = 0;
    pid_t r = waitpid(*it, &status, WNOHANG);
    if (r == *it || (r < 0 && errno == ECHILD)) {
      it = children_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace stoke::launch
