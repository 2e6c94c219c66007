#include "launch/proc_table.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "launch/tests/test_util.h"

extern char** environ;

namespace stoke::launch {
namespace {

TEST(ProcTableTest, ParsesCommandNamesWithSpacesAndParens) {
  std::string text = "1234 (a) b (c)) S 77 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10\n";
  auto st = ParseProcStat(text);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->pid, 1234);
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 77);
  EXPECT_EQ(st->pgrp, 1234);
  EXPECT_EQ(st->start_ticks, 98765);
  EXPECT_FALSE(ParseProcStat("1 (x) S 1 2").has_value());
}

TEST(ProcTableTest, ReadsOwnProcess) {
  auto st = ReadProcStat(getpid());
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->ppid, getppid());
  EXPECT_GT(st->start_ticks, 0);
  EXPECT_TRUE(IsSameLiveProcess(getpid(), st->start_ticks));
  EXPECT_FALSE(IsSameLiveProcess(getpid(), st->start_ticks + 1));
  EXPECT_FALSE(ReadProcStat(0).has_value());
}

TEST(ProcTableTest, FindsChildrenAndGrandchildren) {
  // sh (child) starts sleep (grandchild) in the background and waits.
  testing::TempDir dir;
  testing::Fifo fifo(dir / "fifo");
  std::string script = "sleep 30 & echo $! > " + fifo.path() + "; wait";
  const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
  pid_t child = 0;
  ASSERT_EQ(posix_spawn(&child, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  auto line = fifo.ReadLine(std::chrono::seconds(10));
  ASSERT_TRUE(line.has_value());
  pid_t grandchild = std::stoi(*line);
  auto tree = Descendants(getpid());
  EXPECT_NE(std::find(tree.begin(), tree.end(), child), tree.end());
  EXPECT_NE(std::find(tree.begin(), tree.end(), grandchild), tree.end());
  auto below_child = Descendants(child);
  EXPECT_EQ(below_child, std::vector<pid_t>{grandchild});
  kill(grandchild, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_FALSE(testing::IsAlive(child));
}

}  // namespace
}  // namespace stoke::launch
