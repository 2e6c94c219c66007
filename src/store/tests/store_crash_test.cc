#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "store/tests/store_test_util.h"

namespace stoke::store {
namespace {

using CrashTest = testing::StoreTest;

// Child: creates jobs from 4 threads forever and reports each id on `fd` only after
// CreateJob returned, i.e. after the store acknowledged the write. Never returns.
[[noreturn]] void WriteUntilKilled(const std::string& path, int fd) {
  auto store = Store::Open(Options{.path = path});
  if (!store) _exit(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        Job job;
        job.user = "crash" + std::to_string(t);
        job.spec.name = std::to_string(i);
        auto created = (*store)->CreateJob(job);
        if (!created) _exit(3);
        int64_t id = created->id;
        // 8-byte pipe writes are atomic, so ids from several threads do not interleave.
        if (write(fd, &id, sizeof(id)) != sizeof(id)) _exit(4);
      }
    });
  }
  for (auto& th : threads) th.join();
  _exit(0);
}

TEST_F(CrashTest, AcknowledgedJobsSurviveKillNine) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    WriteUntilKilled(path_, fds[1]);
  }
  close(fds[1]);
  std::vector<int64_t> acked;
  auto read_id = [&]() {
    int64_t id = 0;
    ssize_t n = read(fds[0], &id, sizeof(id));
    if (n == sizeof(id)) acked.push_back(id);
    return n == sizeof(id);
  };
  while (acked.size() < 300 && read_id()) {
  }
  ASSERT_GE(acked.size(), 300u) << "child stopped early";
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  while (read_id()) {  // ids acknowledged just before the kill, still in the pipe
  }
  close(fds[0]);

  Store& store = OpenStore();
  for (int64_t id : acked) ASSERT_TRUE(store.GetJob(id).has_value()) << "acknowledged job " << id << " lost";
  // Ids are gap-free: everything up to the highest stored id exists.
  auto page = store.ListJobs(JobFilter{.limit = 1});
  ASSERT_TRUE(page.has_value());
  int64_t max_id = page->jobs.at(0).id;
  EXPECT_GE(max_id, *std::max_element(acked.begin(), acked.end()));
  auto counts = store.CountJobsByState().value();
  EXPECT_EQ(counts[JobState::kQueued], max_id);
}

}  // namespace
}  // namespace stoke::store
