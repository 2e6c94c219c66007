#include "launch/local_launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "launch/cgroup.h"
#include "launch/host_resources.h"
#include "launch/tests/test_util.h"

namespace stoke::launch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Fifo;
using testing::IsAlive;
using testing::ReadFile;
using testing::TempDir;
using testing::WaitForProcessExit;

constexpr auto kWait = seconds(20);  // upper bound for any single wait; normal runs take ms

LocalLauncherOptions TestOptions() {
  LocalLauncherOptions options;
  options.supervisor_exe = STOKE_SUPERVISOR_EXE;  // main() calls SupervisorMain directly
  options.supervisor_args_prefix = {};
  return options;
}

std::unique_ptr<LocalLauncher> MakeLauncher() {
  auto launcher = LocalLauncher::Create(TestOptions());
  EXPECT_TRUE(launcher.has_value()) << launcher.error().ToString();
  return std::move(*launcher);
}

class LocalLauncherTest : public ::testing::Test {
 protected:
  LaunchSpec Spec(std::vector<std::string> argv) {
    LaunchSpec spec;
    spec.job_id = ++next_id_;
    spec.argv = std::move(argv);
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    spec.working_dir = dir_.path();
    spec.log_path = dir_ / "job.log";
    spec.status_path = dir_ / "exit-status";
    return spec;
  }
  LaunchSpec Shell(const std::string& script) { return Spec({"sh", "-c", script}); }

  LaunchResult MustLaunch(const LaunchSpec& spec) {
    auto result = launcher_->Launch(spec);
    EXPECT_TRUE(result.has_value()) << result.error().ToString();
    return result.value_or(LaunchResult{});
  }

  // Waits for the supervisor to exit, then returns what Poll says.
  ProcessStatus WaitAndPoll(Launcher& launcher, const ProcessHandle& handle, const std::string& status_path) {
    EXPECT_TRUE(WaitForProcessExit(static_cast<pid_t>(handle.pid), kWait)) << "supervisor still running";
    return launcher.Poll(handle, status_path);
  }
  ProcessStatus RunToEnd(const LaunchSpec& spec) {
    LaunchResult result = MustLaunch(spec);
    return WaitAndPoll(*launcher_, result.handle, spec.status_path);
  }

  TempDir dir_;
  std::unique_ptr<LocalLauncher> launcher_ = MakeLauncher();
  JobId next_id_ = 1000 + getpid() % 1000 * 100;
};

TEST_F(LocalLauncherTest, RecordsExitCodes) {
  ProcessStatus status = RunToEnd(Shell("exit 3"));
  EXPECT_EQ(status.state, ProcessState::kExited);
  EXPECT_EQ(status.exit_kind, ExitKind::kExited);
  EXPECT_EQ(status.exit_code, 3);
  EXPECT_EQ(status.signal, 0);
  EXPECT_EQ(status.reason, "exited with code 3");

  status = RunToEnd(Spec({"true"}));
  EXPECT_EQ(status.state, ProcessState::kExited);
  EXPECT_EQ(status.exit_code, 0);
}

TEST_F(LocalLauncherTest, RecordsDeathBySignal) {
  ProcessStatus status = RunToEnd(Shell("kill -KILL $$"));
  EXPECT_EQ(status.state, ProcessState::kExited);
  EXPECT_EQ(status.exit_kind, ExitKind::kSignaled);
  EXPECT_EQ(status.signal, SIGKILL);
  EXPECT_EQ(status.exit_code, 128 + SIGKILL);
  EXPECT_EQ(status.reason, "killed by SIGKILL");
}

TEST_F(LocalLauncherTest, CapturesStdoutAndStderrInAppendMode) {
  LaunchSpec spec = Shell("echo to-out; echo to-err >&2; echo again");
  { std::ofstream(spec.log_path) << "earlier run\n"; }
  ProcessStatus status = RunToEnd(spec);
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(ReadFile(spec.log_path), "earlier run\nto-out\nto-err\nagain\n");
}

TEST_F(LocalLauncherTest, UsesExactlyTheGivenEnvironmentAndWorkingDir) {
  std::string work = dir_ / "work dir";
  std::filesystem::create_directories(work);
  std::string bin = dir_ / "bin";
  std::filesystem::create_directories(bin);
  { std::ofstream(bin + "/mytool") << "#!/bin/sh\necho \"mytool sees $STOKE_X\"\npwd\necho HOME=${HOME-unset}\n"; }
  chmod((bin + "/mytool").c_str(), 0755);
  ASSERT_NE(getenv("PATH"), nullptr);  // the test's own environment must not leak into the job

  LaunchSpec spec = Spec({"mytool"});  // found through the job's PATH, not the server's
  spec.env = {{"PATH", bin + ":/usr/bin:/bin"}, {"STOKE_X", "hello world"}};
  spec.working_dir = work;
  ProcessStatus status = RunToEnd(spec);
  EXPECT_EQ(status.exit_code, 0) << status.reason;
  EXPECT_EQ(ReadFile(spec.log_path), "mytool sees hello world\n" + work + "\nHOME=unset\n");
}

TEST_F(LocalLauncherTest, ReportsExecFailureClearly) {
  LaunchSpec spec = Spec({"python4", "train.py"});
  LaunchResult result = MustLaunch(spec);
  EXPECT_EQ(result.exec_error, "exec python4: No such file or directory");
  ProcessStatus status = WaitAndPoll(*launcher_, result.handle, spec.status_path);
  EXPECT_EQ(status.state, ProcessState::kExited);
  EXPECT_EQ(status.exit_kind, ExitKind::kExecFailed);
  EXPECT_EQ(status.exit_code, 127);
  EXPECT_EQ(status.reason, "exec python4: No such file or directory");
  EXPECT_NE(ReadFile(spec.log_path).find("exec python4: No such file or directory"), std::string::npos);

  spec = Spec({"true"});
  spec.working_dir = dir_ / "no-such-dir";
  status = RunToEnd(spec);
  EXPECT_EQ(status.exit_kind, ExitKind::kExecFailed);
  EXPECT_EQ(status.reason, "chdir " + spec.working_dir + ": No such file or directory");
}

TEST_F(LocalLauncherTest, RejectsBadSpecsAndUnopenableLogs) {
  EXPECT_EQ(launcher_->Launch(Spec({})).error().code(), StatusCode::kInvalidArgument);
  LaunchSpec spec = Spec({"true"});
  spec.env["BAD=KEY"] = "x";
  EXPECT_EQ(launcher_->Launch(spec).error().field(), "env");
  spec = Spec({"true"});
  spec.log_path = dir_ / "missing/job.log";
  auto result = launcher_->Launch(spec);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(result.error().message().find("open log"), std::string::npos) << result.error().ToString();
}

TEST_F(LocalLauncherTest, TerminateStopsEscapedAndStubbornDescendants) {
  Fifo ready(dir_ / "ready");
  // One grandchild leaves the session with setsid; another ignores SIGTERM (inherited across exec).
  // Each reports its pid once it is set up, so the test never races their setsid/trap.
  LaunchSpec spec = Shell("setsid sh -c 'echo e $$ > " + ready.path() + "; exec sleep 1000' & "
                          "sh -c 'trap \"\" TERM; echo s $$ > " + ready.path() + "; exec sleep 1000' & wait");
  spec.grace_seconds = 1;
  LaunchResult result = MustLaunch(spec);
  pid_t escaped = 0, stubborn = 0;
  for (int i = 0; i < 2; ++i) {
    auto line = ready.ReadLine(kWait);
    ASSERT_TRUE(line.has_value());
    std::istringstream in(*line);
    char which = 0;
    pid_t pid = 0;
    in >> which >> pid;
    (which == 'e' ? escaped : stubborn) = pid;
  }
  ASSERT_GT(escaped, 0);
  ASSERT_GT(stubborn, 0);
  ASSERT_TRUE(IsAlive(escaped) && IsAlive(stubborn));
  EXPECT_NE(getsid(escaped), getsid(static_cast<pid_t>(result.handle.pid)));
  std::vector<pid_t> tree = Descendants(static_cast<pid_t>(result.handle.pid));
  ASSERT_GE(tree.size(), 3u);

  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(launcher_->Terminate(result.handle, /*force=*/false).ok());
  ProcessStatus status = WaitAndPoll(*launcher_, result.handle, spec.status_path);
  auto took = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(status.state, ProcessState::kExited);
  EXPECT_EQ(status.exit_kind, ExitKind::kKilledByRequest);
  EXPECT_NE(status.reason.find("stopped by request (SIGTERM)"), std::string::npos) << status.reason;
  EXPECT_NE(status.reason.find("SIGKILL after 1 s grace"), std::string::npos) << status.reason;
  EXPECT_GE(took, milliseconds(900));  // the stubborn one needed the SIGKILL after the grace
  for (pid_t pid : tree) EXPECT_FALSE(IsAlive(pid)) << "pid " << pid << " survived";
}

TEST_F(LocalLauncherTest, GracefulStopDoesNotWaitOutTheGrace) {
  Fifo ready(dir_ / "ready");
  // The background child says it is ready itself, after its exec: a shell that forked but has not yet
  // exec'd still runs the parent's trap and would swallow the SIGTERM, leaving `sleep` for the full grace.
  LaunchSpec spec = Shell("trap 'echo cleaning up; exit 0' TERM; sh -c 'echo up > " + ready.path() +
                          "; exec sleep 1000' & wait");
  spec.grace_seconds = 30;
  LaunchResult result = MustLaunch(spec);
  ASSERT_TRUE(ready.ReadLine(kWait).has_value());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(launcher_->Terminate(result.handle, /*force=*/false).ok());
  ProcessStatus status = WaitAndPoll(*launcher_, result.handle, spec.status_path);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
  EXPECT_EQ(status.exit_kind, ExitKind::kKilledByRequest);
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.reason, "stopped by request (SIGTERM); main process exited with code 0");
  std::string log = ReadFile(spec.log_path);
  EXPECT_NE(log.find("cleaning up"), std::string::npos) << log;
  EXPECT_NE(log.find("[stoke-supervisor] stop requested (SIGTERM)"), std::string::npos) << log;
}

TEST_F(LocalLauncherTest, FinishedJobLeavesNothingRunning) {
  Fifo ready(dir_ / "ready");
  LaunchSpec spec = Shell("setsid sleep 1000 & echo $! > " + ready.path() + "; exit 0");
  LaunchResult result = MustLaunch(spec);
  auto line = ready.ReadLine(kWait);
  ASSERT_TRUE(line.has_value());
  pid_t leftover = std::stoi(*line);
  ProcessStatus status = WaitAndPoll(*launcher_, result.handle, spec.status_path);
  EXPECT_EQ(status.exit_kind, ExitKind::kExited);
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_NE(status.reason.find("stopped 1 leftover process(es)"), std::string::npos) << status.reason;
  EXPECT_FALSE(IsAlive(leftover));
}

TEST_F(LocalLauncherTest, SecondInstanceReattachesToRunningJob) {
  Fifo go(dir_ / "go");
  LaunchSpec spec = Shell("read x < " + go.path() + "; exit 7");
  LaunchResult result = MustLaunch(spec);

  auto other = MakeLauncher();  // as after a server restart: knows only the stored handle
  EXPECT_EQ(other->Poll(result.handle, spec.status_path).state, ProcessState::kRunning);
  ASSERT_TRUE(go.Send("go\n"));
  ProcessStatus status = WaitAndPoll(*other, result.handle, spec.status_path);
  EXPECT_EQ(status.state, ProcessState::kExited);
  EXPECT_EQ(status.exit_code, 7);
  EXPECT_EQ(launcher_->Poll(result.handle, spec.status_path).exit_code, 7);
}

TEST_F(LocalLauncherTest, ReusedPidIsNotMistakenForTheJob) {
  Fifo go(dir_ / "go");
  LaunchSpec spec = Shell("read x < " + go.path() + "; exit 0");
  LaunchResult result = MustLaunch(spec);
  ProcessHandle wrong = result.handle;
  wrong.start_ticks += 1;
  ProcessStatus status = launcher_->Poll(wrong, spec.status_path);
  EXPECT_EQ(status.state, ProcessState::kGone);
  EXPECT_NE(status.reason.find("start time differs"), std::string::npos) << status.reason;
  // A stale handle never signals the process that now holds the pid.
  EXPECT_TRUE(launcher_->Terminate(wrong, /*force=*/true).ok());
  EXPECT_EQ(launcher_->Poll(result.handle, spec.status_path).state, ProcessState::kRunning);

  EXPECT_EQ(launcher_->Poll({.pid = 0x3fffff00, .start_ticks = 1}, spec.status_path).state, ProcessState::kGone);
  ASSERT_TRUE(go.Send("go\n"));
  EXPECT_EQ(WaitAndPoll(*launcher_, result.handle, spec.status_path).state, ProcessState::kExited);
}

TEST_F(LocalLauncherTest, ExitedSupervisorsAreReaped) {
  LaunchSpec spec = Spec({"true"});
  LaunchResult result = MustLaunch(spec);
  ASSERT_TRUE(WaitForProcessExit(static_cast<pid_t>(result.handle.pid), kWait));
  auto before = ReadProcStat(static_cast<pid_t>(result.handle.pid));
  ASSERT_TRUE(before.has_value());
  EXPECT_TRUE(before->zombie());
  EXPECT_EQ(launcher_->Poll(result.handle, spec.status_path).state, ProcessState::kExited);
  EXPECT_FALSE(ReadProcStat(static_cast<pid_t>(result.handle.pid)).has_value());
}

TEST_F(LocalLauncherTest, MemoryLimitIsEnforced) {
  LaunchSpec big = Spec({"/usr/bin/python3", "-c", "b = bytearray(1 << 30); print('allocated')"});
  big.memory_bytes = 256LL << 20;
  LaunchResult result = MustLaunch(big);
  if (result.memory_enforcement == "none") GTEST_SKIP() << "neither a cgroup nor RLIMIT_AS applies here";
  std::printf("memory enforcement: %s (cgroup root '%s')\n", result.memory_enforcement.c_str(),
              launcher_->cgroup_root().c_str());
  ProcessStatus status = WaitAndPoll(*launcher_, result.handle, big.status_path);
  EXPECT_EQ(status.state, ProcessState::kExited);
  EXPECT_NE(status.exit_code, 0) << status.reason;
  EXPECT_EQ(ReadFile(big.log_path).find("allocated"), std::string::npos);

  LaunchSpec small = Spec({"/usr/bin/python3", "-c", "b = bytearray(16 << 20); print('allocated')"});
  small.memory_bytes = 256LL << 20;
  small.log_path = dir_ / "small.log";
  status = RunToEnd(small);
  EXPECT_EQ(status.exit_code, 0) << status.reason << "\n" << ReadFile(small.log_path);
  EXPECT_EQ(ReadFile(small.log_path), "allocated\n");
}

TEST_F(LocalLauncherTest, NoRlimitWhenFallbackIsOff) {
  if (!launcher_->cgroup_root().empty()) GTEST_SKIP() << "cgroup enforcement available here";
  LaunchSpec spec = Spec({"true"});
  spec.memory_bytes = 256LL << 20;
  spec.rlimit_fallback = false;
  EXPECT_EQ(MustLaunch(spec).memory_enforcement, "none");
}

TEST_F(LocalLauncherTest, PinsCpuAffinity) {
  std::vector<int> cpus = AllowedCpus();
  ASSERT_FALSE(cpus.empty());
  LaunchSpec spec = Spec({"grep", "Cpus_allowed_list", "/proc/self/status"});
  spec.cpu_cores = {cpus.back()};
  ProcessStatus status = RunToEnd(spec);
  EXPECT_EQ(status.exit_code, 0) << status.reason;
  EXPECT_EQ(ReadFile(spec.log_path), "Cpus_allowed_list:\t" + std::to_string(cpus.back()) + "\n");

  spec.cpu_cores = {1023};  // not a core of this machine
  status = RunToEnd(spec);
  EXPECT_EQ(status.exit_kind, ExitKind::kExecFailed);
  EXPECT_EQ(status.reason, "cpu affinity 1023: Invalid argument");
}

TEST_F(LocalLauncherTest, SupervisorOutlivesTheProcessThatLaunchedIt) {
  Fifo go(dir_ / "go");
  LaunchSpec spec = Shell("read x < " + go.path() + "; exit 5");
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t helper = fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {  // plays the server: launches, hands over the handle, dies by SIGKILL
    auto launcher = LocalLauncher::Create(TestOptions());
    if (!launcher) _exit(1);
    auto result = (*launcher)->Launch(spec);
    if (!result) _exit(2);
    ProcessHandle handle = result->handle;
    if (write(pipe_fds[1], &handle, sizeof(handle)) != sizeof(handle)) _exit(3);
    kill(getpid(), SIGKILL);
  }
  close(pipe_fds[1]);
  ProcessHandle handle;
  ASSERT_EQ(read(pipe_fds[0], &handle, sizeof(handle)), static_cast<ssize_t>(sizeof(handle)));
  close(pipe_fds[0]);
  int helper_status = 0;
  ASSERT_EQ(waitpid(helper, &helper_status, 0), helper);
  ASSERT_TRUE(WIFSIGNALED(helper_status));

  EXPECT_EQ(launcher_->Poll(handle, spec.status_path).state, ProcessState::kRunning);
  auto stat = ReadProcStat(static_cast<pid_t>(handle.pid));
  ASSERT_TRUE(stat.has_value());
  EXPECT_NE(stat->ppid, helper);
  ASSERT_TRUE(go.Send("go\n"));
  ProcessStatus status = WaitAndPoll(*launcher_, handle, spec.status_path);
  EXPECT_EQ(status.state, ProcessState::kExited);
  EXPECT_EQ(status.exit_code, 5);
}

TEST_F(LocalLauncherTest, ForceTerminateKillsTheTreeOfAFrozenSupervisor) {
  Fifo ready(dir_ / "ready");
  LaunchSpec spec = Shell("sh -c 'trap \"\" TERM; exec sleep 1000' & echo $! > " + ready.path() + "; wait");
  spec.grace_seconds = 30;
  LaunchResult result = MustLaunch(spec);
  ASSERT_TRUE(ready.ReadLine(kWait).has_value());
  std::vector<pid_t> tree = Descendants(static_cast<pid_t>(result.handle.pid));
  ASSERT_GE(tree.size(), 2u);
  kill(static_cast<pid_t>(result.handle.pid), SIGSTOP);  // an unresponsive supervisor

  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(launcher_->Terminate(result.handle, /*force=*/true).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
  for (pid_t pid : tree) EXPECT_FALSE(IsAlive(pid)) << "pid " << pid << " survived";
  EXPECT_FALSE(IsAlive(static_cast<pid_t>(result.handle.pid)));
  ProcessStatus status = launcher_->Poll(result.handle, spec.status_path);
  EXPECT_EQ(status.state, ProcessState::kGone);  // it could not write its exit status
}

TEST_F(LocalLauncherTest, ForceTerminateOfAHealthySupervisorIsRecorded) {
  Fifo ready(dir_ / "ready");
  LaunchSpec spec = Shell("sh -c 'trap \"\" TERM; exec sleep 1000' & echo $! > " + ready.path() + "; wait");
  spec.grace_seconds = 30;
  LaunchResult result = MustLaunch(spec);
  ASSERT_TRUE(ready.ReadLine(kWait).has_value());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(launcher_->Terminate(result.handle, /*force=*/true).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));  // did not wait out the 30 s grace
  ProcessStatus status = WaitAndPoll(*launcher_, result.handle, spec.status_path);
  EXPECT_EQ(status.state, ProcessState::kExited);
  EXPECT_EQ(status.exit_kind, ExitKind::kKilledByRequest);
}

TEST_F(LocalLauncherTest, OomKillerSparesTheSupervisorNotTheJob) {
  Fifo go(dir_ / "go");
  LaunchSpec spec = Shell("cat /proc/self/oom_score_adj; read x < " + go.path());
  LaunchResult result = MustLaunch(spec);
  std::string own = ReadFile("/proc/self/oom_score_adj");
  std::string supervisor = ReadFile("/proc/" + std::to_string(result.handle.pid) + "/oom_score_adj");
  ASSERT_TRUE(go.Send("go\n"));
  ProcessStatus status = WaitAndPoll(*launcher_, result.handle, spec.status_path);
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(ReadFile(spec.log_path), own);  // the job keeps the server's setting
  // Lowering the score needs CAP_SYS_RESOURCE; probe it in a throwaway child.
  pid_t probe = fork();
  if (probe == 0) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY);
    _exit(fd >= 0 && write(fd, "-1000", 5) == 5 ? 0 : 1);
  }
  int probe_status = 0;
  waitpid(probe, &probe_status, 0);
  bool may_lower = WIFEXITED(probe_status) && WEXITSTATUS(probe_status) == 0;
  EXPECT_EQ(supervisor, may_lower ? "-1000\n" : own) << "may lower: " << may_lower;
}

// The cgroup2 mount point if a job cgroup can be created under it here (with or without the
// memory controller), else "".
std::string WritableCgroup2Mount() {
  std::istringstream lines(ReadFile("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(lines, line)) {
    size_t dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, dev, root, mount_point;
    fields >> id >> parent >> dev >> root >> mount_point;
    std::string probe = mount_point + "/stoke-probe-" + std::to_string(getpid());
    if (mkdir(probe.c_str(), 0755) != 0) return "";
    rmdir(probe.c_str());
    return mount_point;
  }
  return "";
}

TEST_F(LocalLauncherTest, CgroupModeHoldsKillsAndRemovesTheJobCgroup) {
  std::string mount = WritableCgroup2Mount();
  if (mount.empty()) GTEST_SKIP() << "no writable cgroup v2 hierarchy here";
  LocalLauncherOptions options = TestOptions();
  options.cgroup_root = mount;
  auto launcher = LocalLauncher::Create(options);
  ASSERT_TRUE(launcher.has_value()) << launcher.error().ToString();

  Fifo ready(dir_ / "ready");
  LaunchSpec spec = Shell("cat /proc/self/cgroup; setsid sh -c 'trap \"\" TERM; echo up > " + ready.path() +
                          "; exec sleep 1000' & wait");
  spec.grace_seconds = 1;
  auto result = (*launcher)->Launch(spec);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  ASSERT_TRUE(ready.ReadLine(kWait).has_value());
  std::string cgroup_dir = mount + "/stoke-job-" + std::to_string(spec.job_id);
  std::string members = ReadFile(cgroup_dir + "/cgroup.procs");
  EXPECT_NE(members.find(std::to_string(result->child_pid) + "\n"), std::string::npos) << members;
  std::vector<pid_t> tree = Descendants(static_cast<pid_t>(result->handle.pid));

  ASSERT_TRUE((*launcher)->Terminate(result->handle, /*force=*/false).ok());
  ProcessStatus status = WaitAndPoll(**launcher, result->handle, spec.status_path);
  EXPECT_EQ(status.exit_kind, ExitKind::kKilledByRequest);
  for (pid_t pid : tree) EXPECT_FALSE(IsAlive(pid)) << "pid " << pid << " survived";
  EXPECT_NE(ReadFile(spec.log_path).find("/stoke-job-" + std::to_string(spec.job_id) + "\n"), std::string::npos)
      << ReadFile(spec.log_path);
  EXPECT_FALSE(std::filesystem::exists(cgroup_dir));

  // Without the memory controller there, a memory limit falls back to RLIMIT_AS, and says so.
  if (ReadFile(mount + "/cgroup.controllers").find("memory") == std::string::npos) {
    LaunchSpec limited = Spec({"true"});
    limited.memory_bytes = 256LL << 20;
    limited.log_path = dir_ / "limited.log";
    auto limited_result = (*launcher)->Launch(limited);
    ASSERT_TRUE(limited_result.has_value());
    EXPECT_EQ(limited_result->memory_enforcement, "rlimit");
    WaitAndPoll(**launcher, limited_result->handle, limited.status_path);
    EXPECT_NE(ReadFile(limited.log_path).find("[stoke-supervisor] no job cgroup"), std::string::npos);
  }
}

TEST(DefaultOptionsTest, PrefersTheSupervisorBesideTheExecutable) {
  // stoke-supervisor is built beside `stoke` (src/apps); whether one sits beside this test binary
  // depends on the build layout, so check the rule for whichever case holds.
  LocalLauncherOptions options = DefaultLocalLauncherOptions();
  std::filesystem::path self = std::filesystem::canonical("/proc/self/exe");
  std::filesystem::path beside = self.parent_path() / "stoke-supervisor";
  if (std::filesystem::exists(beside)) {
    EXPECT_EQ(std::filesystem::canonical(options.supervisor_exe), std::filesystem::canonical(beside));
    EXPECT_TRUE(options.supervisor_args_prefix.empty());
  } else {
    EXPECT_EQ(std::filesystem::canonical(options.supervisor_exe), self);
    EXPECT_EQ(options.supervisor_args_prefix, std::vector<std::string>{"_supervise"});
  }
}

TEST(CgroupRootTest, DetectedRootHasTheMemoryController) {
  std::string root = DetectCgroupRoot();
  std::printf("cgroup root for jobs: '%s'\n", root.c_str());
  if (root.empty()) return;  // cgroup v1 only or no memory controller: rlimit fallback (tested above)
  EXPECT_NE(ReadFile(root + "/cgroup.controllers").find("memory"), std::string::npos);
  EXPECT_NE(ReadFile(root + "/cgroup.subtree_control").find("memory"), std::string::npos);
}

TEST_F(LocalLauncherTest, ConcurrentLaunchesFromManyThreads) {
  constexpr int kThreads = 4, kPerThread = 3;
  std::vector<std::thread> threads;
  std::vector<int> codes(kThreads * kPerThread, -1);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        int n = t * kPerThread + i;
        LaunchSpec spec = Shell("exit " + std::to_string(n));
        spec.job_id = 5000 + n;
        spec.log_path = dir_ / ("job" + std::to_string(n) + ".log");
        spec.status_path = dir_ / ("status" + std::to_string(n));
        auto result = launcher_->Launch(spec);
        if (!result) continue;
        if (!WaitForProcessExit(static_cast<pid_t>(result->handle.pid), kWait)) continue;
        codes[n] = launcher_->Poll(result->handle, spec.status_path).exit_code;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int n = 0; n < kThreads * kPerThread; ++n) EXPECT_EQ(codes[n], n);
}

}  // namespace
}  // namespace stoke::launch
