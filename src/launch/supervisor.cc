#include "launch/supervisor.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "launch/cgroup.h"
#include "launch/exit_record.h"
#include "launch/proc_table.h"
#include "launch/supervisor_spec.h"

namespace stoke::launch {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kExecFailedCode = 127;
// While stopping a tree, descendants that are not our direct children do not signal their exit,
// so the supervisor re-checks /proc at this period.
constexpr auto kStopPollPeriod = std::chrono::milliseconds(20);
// After SIGKILL, processes stuck in uninterruptible sleep may linger; stop waiting after this.
constexpr auto kAfterKillLimit = std::chrono::seconds(5);

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Supervisor notes go to the job's log (fd 2 once the log is open), marked as ours.
void LogLine(std::string_view message) {
  WriteAll(STDERR_FILENO, "[stoke-supervisor] " + std::string(message) + "\n");
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig);
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by " + SignalName(WTERMSIG(status));
  return "ended";
}

UnixMillis NowMillis() { return SystemClock().NowMillis(); }

bool WriteSmall(const std::string& path, std::string_view value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  close(fd);
  return ok;
}

// One job's supervision, from setup to the exit-status file. Single-threaded by design: signals
// are taken with sigwaitinfo and fork() needs no care for other threads.
class Supervisor {
 public:
  Supervisor(SupervisorSpec spec, int control_fd) : spec_(std::move(spec)), control_fd_(control_fd) {}
  int Run();

 private:
  void Reply(std::string_view line) {
    if (control_fd_ < 0) return;
    WriteAll(control_fd_, std::string(line) + "\n");
    close(control_fd_);
    control_fd_ = -1;
  }
  [[noreturn]] void RunChild(int error_fd);
  void SignalTree(int sig);
  int Finish(ExitRecord record);

  SupervisorSpec spec_;
  int control_fd_;
  std::unique_ptr<JobCgroup> cgroup_;
  bool use_rlimit_ = false;
  std::string enforcement_ = "none";
  std::string original_oom_adj_;  // "" = unchanged
  pid_t child_ = 0;
};

int Supervisor::Run() {
  const LaunchSpec& job = spec_.launch;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    Reply(std::string("error prctl(PR_SET_CHILD_SUBREAPER): ") + std::strerror(errno));
    return 1;
  }
  int log_fd = open(job.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    Reply("error open log " + job.log_path + ": " + std::strerror(errno));
    return 1;
  }
  // The log becomes our stdout/stderr and, by inheritance, the job's.
  dup2(log_fd, STDOUT_FILENO);
  dup2(log_fd, STDERR_FILENO);
  close(log_fd);

  // Make the kernel's OOM killer pick the job, never its supervisor: a dead supervisor cannot stop
  // or report the tree. Needs privilege; the child gets the original value back before exec.
  original_oom_adj_ = ReadSmallFile("/proc/self/oom_score_adj").value_or("");
  if (!original_oom_adj_.empty() && !WriteSmall("/proc/self/oom_score_adj", "-1000")) original_oom_adj_.clear();

  if (!spec_.cgroup_root.empty()) {
    auto cgroup = JobCgroup::Create(spec_.cgroup_root, job.job_id, job.memory_bytes);
    if (cgroup) {
      cgroup_ = std::move(*cgroup);
      if (job.memory_bytes > 0) enforcement_ = "cgroup";
    } else {
      LogLine("no job cgroup (" + cgroup.error().message() + ")");
    }
  }
  if (job.memory_bytes > 0 && enforcement_ == "none" && job.rlimit_fallback) {
    use_rlimit_ = true;
    enforcement_ = "rlimit";
  }
  // execvpe searches the PATH of the calling process, so adopt the job's.
  if (auto it = job.env.find("PATH"); it != job.env.end()) {
    setenv("PATH", it->second.c_str(), 1);
  } else {
    unsetenv("PATH");  // glibc then uses its default search path
  }

  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    Reply(std::string("error pipe: ") + std::strerror(errno));
    return 1;
  }
  child_ = fork();
  if (child_ < 0) {
    Reply(std::string("error fork: ") + std::strerror(errno));
    if (cgroup_) (void)cgroup_->Remove();
    return 1;
  }
  if (child_ == 0) {
    close(error_pipe[0]);
    RunChild(error_pipe[1]);
  }
  close(error_pipe[1]);
  // The pipe closes without data when exec succeeds (O_CLOEXEC), or carries the reason it failed.
  std::string exec_error;
  char buf[512];
  while (true) {
    ssize_t n = read(error_pipe[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    exec_error.append(buf, static_cast<size_t>(n));
  }
  close(error_pipe[0]);
  // Keeps the supervisor from pinning the server's working directory's mount; failure is harmless.
  [[maybe_unused]] int ignored = chdir("/");

  if (!exec_error.empty()) {
    int status = 0;
    while (waitpid(child_, &status, 0) < 0 && errno == EINTR) {
    }
    WriteAll(STDERR_FILENO, "stoke: " + exec_error + "\n");
    ExitRecord record{.kind = ExitKind::kExecFailed, .exit_code = kExecFailedCode, .signal = 0,
                      .child_pid = child_, .finished_at = 0, .reason = exec_error};
    int code = Finish(std::move(record));
    Reply("exec-failed " + std::to_string(child_) + " " + enforcement_ + " " + exec_error);
    return code;
  }
  Reply("started " + std::to_string(child_) + " " + enforcement_);

  sigset_t waited;
  sigemptyset(&waited);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP}) sigaddset(&waited, sig);

  const pid_t self = getpid();
  bool main_done = false;
  int main_status = 0;
  int stop_signal = 0;        // the signal that asked us to stop, 0 = none (before the job ended)
  bool stopping = false;      // SIGTERM sent to the tree
  bool hard_killed = false;   // SIGKILL sent to the tree
  size_t leftovers = 0;       // descendants still running when the main process exited
  SteadyClock::time_point kill_at, give_up_at;
  const auto grace = std::chrono::seconds(std::max(0, job.grace_seconds));
  auto begin_stop = [&] {
    stopping = true;
    kill_at = SteadyClock::now() + grace;
    SignalTree(SIGTERM);
  };

  while (true) {
    int status = 0;
    pid_t reaped;
    while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
      if (reaped == child_) {
        main_done = true;
        main_status = status;
      }
    }
    // While the job runs undisturbed there is nothing to look up; /proc walks cost ~1 ms.
    std::vector<pid_t> alive;
    if (main_done || stopping) alive = Descendants(self);
    if (main_done && alive.empty()) break;
    if (main_done && !stopping) {
      leftovers = alive.size();
      LogLine("job's main process " + DescribeWaitStatus(main_status) + "; stopping " +
              std::to_string(leftovers) + " leftover process(es)");
      begin_stop();
    }
    auto now = SteadyClock::now();
    if (stopping && !hard_killed && now >= kill_at) {
      LogLine("sending SIGKILL to " + std::to_string(alive.size()) + " process(es) after " +
              std::to_string(job.grace_seconds) + " s grace");
      hard_killed = true;
      give_up_at = now + kAfterKillLimit;
      if (cgroup_) cgroup_->KillAll();
    }
    if (hard_killed) {
      SignalTree(SIGKILL);  // again each round: catches processes forked meanwhile
      if (now >= give_up_at) {
        LogLine("giving up on " + std::to_string(alive.size()) + " process(es) that survived SIGKILL");
        break;
      }
    }

    siginfo_t info;
    int sig;
    if (stopping) {
      auto wait = std::min<SteadyClock::duration>(kStopPollPeriod, hard_killed ? kStopPollPeriod : kill_at - now);
      if (wait < SteadyClock::duration::zero()) wait = SteadyClock::duration::zero();
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
      timespec ts{.tv_sec = static_cast<time_t>(ns / 1'000'000'000), .tv_nsec = static_cast<long>(ns % 1'000'000'000)};
      sig = sigtimedwait(&waited, &info, &ts);
    } else {
      sig = sigwaitinfo(&waited, &info);
    }
    if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
      if (!main_done && stop_signal == 0) {
        stop_signal = sig;
        LogLine("stop requested (" + SignalName(sig) + "): sending SIGTERM to the job's processes");
        if (!stopping) begin_stop();
      }
    }
    // SIGCHLD: reaped at the top of the loop. SIGHUP: ignored (we have no terminal).
  }

  ExitRecord record;
  record.child_pid = child_;
  bool signaled = WIFSIGNALED(main_status);
  record.signal = signaled ? WTERMSIG(main_status) : 0;
  record.exit_code = signaled ? 128 + record.signal : WEXITSTATUS(main_status);
  if (stop_signal != 0) {
    record.kind = ExitKind::kKilledByRequest;
    record.reason = "stopped by request (" + SignalName(stop_signal) + "); main process " +
                    DescribeWaitStatus(main_status);
    if (hard_killed) record.reason += "; SIGKILL after " + std::to_string(job.grace_seconds) + " s grace";
  } else if (signaled) {
    record.kind = ExitKind::kSignaled;
    record.reason = DescribeWaitStatus(main_status);
    if (cgroup_ && cgroup_->OomKilled()) {
      record.reason = "out of memory: exceeded the memory limit of " + std::to_string(job.memory_bytes) +
                      " bytes (" + record.reason + ")";
    }
  } else {
    record.kind = ExitKind::kExited;
    record.reason = DescribeWaitStatus(main_status);
  }
  if (leftovers > 0) record.reason += "; stopped " + std::to_string(leftovers) + " leftover process(es)";
  return Finish(std::move(record));
}

void Supervisor::RunChild(int error_fd) {
  const LaunchSpec& job = spec_.launch;
  auto fail = [&](const std::string& what) {
    std::string message = what + ": " + std::strerror(errno);
    WriteAll(error_fd, message);
    _exit(kExecFailedCode);
  };
  setpgid(0, 0);  // own process group: the supervisor signals it as a whole
  if (!original_oom_adj_.empty()) WriteSmall("/proc/self/oom_score_adj", original_oom_adj_);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  if (cgroup_) {
    if (write(cgroup_->procs_fd(), "0", 1) != 1) fail("join cgroup " + cgroup_->path());
  } else if (use_rlimit_) {
    rlimit limit{.rlim_cur = static_cast<rlim_t>(job.memory_bytes), .rlim_max = static_cast<rlim_t>(job.memory_bytes)};
    if (setrlimit(RLIMIT_AS, &limit) != 0) fail("setrlimit RLIMIT_AS");
  }
  if (!job.cpu_cores.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::string list;
    for (int core : job.cpu_cores) {
      list += (list.empty() ? "" : ",") + std::to_string(core);
      if (core < 0 || core >= CPU_SETSIZE) {
        errno = EINVAL;
        fail("cpu affinity " + list);
      }
      CPU_SET(core, &set);
    }
    if (sched_setaffinity(0, sizeof(set), &set) != 0) fail("cpu affinity " + list);
  }
  if (!job.working_dir.empty() && chdir(job.working_dir.c_str()) != 0) fail("chdir " + job.working_dir);

  std::vector<char*> argv;
  for (const auto& arg : job.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [key, value] : job.env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  execvpe(argv[0], argv.data(), envp.data());
  fail("exec " + job.argv[0]);
  _exit(kExecFailedCode);
}

void Supervisor::SignalTree(int sig) {
  if (child_ > 0) kill(-child_, sig);  // the job's process group, even members not under us
  for (pid_t pid : Descendants(getpid())) kill(pid, sig);
}

int Supervisor::Finish(ExitRecord record) {
  record.finished_at = NowMillis();
  if (cgroup_) {
    // The kernel may report the cgroup populated for a moment after the last exit.
    for (int attempt = 0; attempt < 50 && !cgroup_->Remove().ok(); ++attempt) usleep(10'000);
  }
  Status written = WriteExitRecord(spec_.launch.status_path, record);
  if (!written.ok()) LogLine("could not write the exit status: " + written.ToString());
  return record.exit_code;
}

}  // namespace

int SupervisorMain(int argc, char** argv) {
  int control_fd = 3;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if ((arg == "--control-fd" || arg == "--job-id") && i + 1 < argc) {
      if (arg == "--control-fd") control_fd = std::atoi(argv[i + 1]);
      ++i;
    } else {
      WriteAll(STDERR_FILENO, "stoke supervisor: unknown argument " + std::string(arg) + "\n");
      return 2;
    }
  }
  if (control_fd < 3 || fcntl(control_fd, F_GETFD) < 0) {
    if (isatty(STDERR_FILENO)) {
      WriteAll(STDERR_FILENO, "stoke supervisor: no control socket (this command is started by the server)\n");
    }
    return 2;
  }
  // Signals are taken synchronously with sigwaitinfo; block them before anything can arrive.
  sigset_t blocked;
  sigemptyset(&blocked);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP}) sigaddset(&blocked, sig);
  sigprocmask(SIG_BLOCK, &blocked, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Descriptors the server leaked into us must not reach the job.
  if (control_fd > 3) close_range(3, control_fd - 1, 0);
  close_range(control_fd + 1, ~0U, 0);
  fcntl(control_fd, F_SETFD, FD_CLOEXEC);
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
    close(devnull);
  }

  std::string bytes;
  char buf[16384];
  while (true) {
    ssize_t n = read(control_fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  auto spec = DecodeSupervisorSpec(bytes);
  if (!spec) {
    WriteAll(control_fd, "error " + spec.error().message() + "\n");
    return 2;
  }
  return Supervisor(std::move(*spec), control_fd).Run();
}

}  // namespace stoke::launch
