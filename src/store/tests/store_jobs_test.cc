#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "store/tests/store_test_util.h"

namespace stoke::store {
namespace {

using testing::StoreTest;
using JobStoreTest = StoreTest;

TEST_F(JobStoreTest, CreateAndGetRoundTripsEveryField) {
  Store& store = OpenStore();
  Job job = MakeJob("alice", "resnet");
  job.spec.type = JobType::kElastic;
  job.spec.env = {{"A", "1"}, {"B", "two words"}};
  job.spec.resources = Resources{.gpus = 2, .cpus = 8, .memory_bytes = int64_t{1} << 34};
  job.spec.priority = -5;
  job.spec.max_runtime_s = 3600;
  job.spec.working_dir = "/data/w";
  job.spec.hparams_json = R"({"lr":0.1,"layers":[1,2]})";
  job.spec.has_code_archive = true;
  job.spec.elastic = ElasticSpec{.min_workers = 2, .max_workers = 5, .min_wait_s = 30, .train_json = R"({"lr":0.1})"};
  job.state = JobState::kRunning;
  job.exit_code = 3;
  job.reason = "because";
  job.started_at = 1700000000100;
  job.finished_at = 1700000000200;
  job.allocation = Allocation{.cpus = {0, 1}, .gpus = {3}};
  job.pid = 4242;
  job.pid_start_ticks = 987654321;
  job.job_dir = "/var/stoke/jobs/1";

  auto created = store.CreateJob(job);
  ASSERT_TRUE(created.has_value()) << created.error().ToString();
  EXPECT_GT(created->id, 0);
  auto got = store.GetJob(created->id);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(got->id, created->id);
  EXPECT_EQ(got->user, "alice");
  EXPECT_EQ(got->spec.type, JobType::kElastic);
  EXPECT_EQ(got->spec.name, "resnet");
  EXPECT_EQ(got->spec.argv, job.spec.argv);
  EXPECT_EQ(got->spec.env, job.spec.env);
  EXPECT_EQ(got->spec.resources, job.spec.resources);
  EXPECT_EQ(got->spec.priority, -5);
  EXPECT_EQ(got->spec.elastic, job.spec.elastic);
  EXPECT_EQ(got->spec.max_runtime_s, 3600);
  EXPECT_EQ(got->spec.working_dir, "/data/w");
  EXPECT_EQ(got->spec.hparams_json, job.spec.hparams_json);
  EXPECT_TRUE(got->spec.has_code_archive);
  EXPECT_EQ(got->state, JobState::kRunning);
  EXPECT_EQ(got->exit_code, 3);
  EXPECT_EQ(got->reason, "because");
  EXPECT_EQ(got->created_at, job.created_at);
  EXPECT_EQ(got->started_at, job.started_at);
  EXPECT_EQ(got->finished_at, job.finished_at);
  EXPECT_EQ(got->allocation, job.allocation);
  EXPECT_EQ(got->pid, 4242);
  EXPECT_EQ(got->pid_start_ticks, 987654321);
  EXPECT_EQ(got->job_dir, "/var/stoke/jobs/1");
}

TEST_F(JobStoreTest, MissingJobIsNotFoundAndUserIsRequired) {
  Store& store = OpenStore();
  EXPECT_EQ(store.GetJob(99).error().code(), StatusCode::kNotFound);
  auto bad = store.CreateJob(MakeJob("", "x"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.error().field(), "user");
}

TEST_F(JobStoreTest, DataSurvivesCloseAndReopen) {
  JobId id = 0;
  {
    Store& store = OpenStore();
    auto created = store.CreateJob(MakeJob("bob", "persist"));
    ASSERT_TRUE(created.has_value());
    id = created->id;
    ASSERT_TRUE(store.Put("hpo", "exp1", "snapshot-bytes").ok());
    ASSERT_TRUE(store.AppendMetrics(id, {{.step = 1, .name = "loss", .value = 0.5, .time = 1}}).ok());
  }
  store_.reset();
  Store& store = OpenStore();
  auto got = store.GetJob(id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->spec.name, "persist");
  EXPECT_EQ(store.Get("hpo", "exp1").value(), std::optional<std::string>("snapshot-bytes"));
  EXPECT_EQ(store.MetricNames(id).value(), std::vector<std::string>{"loss"});
}

TEST_F(JobStoreTest, IdsAreNeverReusedAfterDeleteAndReopen) {
  Store& store = OpenStore();
  JobId a = store.CreateJob(MakeJob("u", "a")).value().id;
  JobId b = store.CreateJob(MakeJob("u", "b")).value().id;
  EXPECT_EQ(b, a + 1);
  ASSERT_TRUE(store.DeleteJob(b).ok());
  Store& reopened = OpenStore();
  JobId c = reopened.CreateJob(MakeJob("u", "c")).value().id;
  EXPECT_EQ(c, b + 1);
}

TEST_F(JobStoreTest, ConcurrentCreatesGiveUniqueGapFreeIds) {
  Store& store = OpenStore();
  constexpr int kThreads = 16;
  constexpr int kPerThread = 25;
  std::mutex mu;
  std::vector<JobId> ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto created = store.CreateJob(MakeJob("user" + std::to_string(t), "job"));
        ASSERT_TRUE(created.has_value()) << created.error().ToString();
        std::lock_guard lock(mu);
        ids.push_back(created->id);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(ids.size(), size_t{kThreads * kPerThread});
  std::sort(ids.begin(), ids.end());
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], JobId(i + 1)) << "at " << i;
  // Every id handed out is readable, and writes were grouped into fewer commits.
  for (JobId id : ids) ASSERT_TRUE(store.GetJob(id).has_value());
  Store::WriteStats stats = store.write_stats();
  EXPECT_EQ(stats.writes, kThreads * kPerThread);
  EXPECT_LE(stats.commits, stats.writes);
}

TEST_F(JobStoreTest, UpdateWithExpectedStateIsCompareAndSet) {
  Store& store = OpenStore();
  Job job = store.CreateJob(MakeJob("u", "cas")).value();

  job.state = JobState::kStarting;
  ASSERT_TRUE(store.UpdateJob(job, JobState::kQueued).ok());

  // A second writer that still believes the job is QUEUED loses.
  Job stale = job;
  stale.state = JobState::kKilled;
  Status conflict = store.UpdateJob(stale, JobState::kQueued);
  EXPECT_EQ(conflict.code(), StatusCode::kAborted) << conflict.ToString();
  EXPECT_EQ(store.GetJob(job.id)->state, JobState::kStarting);

  job.state = JobState::kRunning;
  job.pid = 77;
  job.allocation.gpus = {0, 1};
  ASSERT_TRUE(store.UpdateJob(job, JobState::kStarting).ok());
  Job got = store.GetJob(job.id).value();
  EXPECT_EQ(got.state, JobState::kRunning);
  EXPECT_EQ(got.pid, 77);
  EXPECT_EQ(got.allocation.gpus, (std::vector<int>{0, 1}));

  // Unconditional update; spec and user stay as created.
  job.state = JobState::kCompleted;
  job.exit_code = 0;
  job.spec.name = "renamed";
  job.user = "mallory";
  ASSERT_TRUE(store.UpdateJob(job).ok());
  got = store.GetJob(job.id).value();
  EXPECT_EQ(got.state, JobState::kCompleted);
  EXPECT_EQ(got.exit_code, 0);
  EXPECT_EQ(got.spec.name, "cas");
  EXPECT_EQ(got.user, "u");

  Job ghost = MakeJob("u", "ghost");
  ghost.id = 12345;
  EXPECT_EQ(store.UpdateJob(ghost).code(), StatusCode::kNotFound);
  EXPECT_EQ(store.UpdateJob(ghost, JobState::kQueued).code(), StatusCode::kNotFound);
}

TEST_F(JobStoreTest, ConcurrentCasHasExactlyOneWinner) {
  Store& store = OpenStore();
  Job job = store.CreateJob(MakeJob("u", "race")).value();
  constexpr int kThreads = 8;
  std::atomic<int> winners{0}, aborted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Job mine = job;
      mine.state = JobState::kStarting;
      mine.pid = 100 + t;
      Status s = store.UpdateJob(mine, JobState::kQueued);
      if (s.ok()) ++winners;
      if (s.code() == StatusCode::kAborted) ++aborted;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(aborted.load(), kThreads - 1);
}

TEST_F(JobStoreTest, ListPagesNewestFirstWithCursor) {
  Store& store = OpenStore();
  std::vector<JobId> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(store.CreateJob(MakeJob("u", "j" + std::to_string(i))).value().id);

  std::vector<JobId> seen;
  JobFilter filter{.limit = 3};
  int pages = 0;
  while (true) {
    auto page = store.ListJobs(filter);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    ++pages;
    for (const Job& j : page->jobs) seen.push_back(j.id);
    if (!page->next_before_id) break;
    EXPECT_EQ(*page->next_before_id, page->jobs.back().id);
    filter.before_id = *page->next_before_id;
  }
  EXPECT_EQ(pages, 3);
  std::vector<JobId> expected(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, expected);

  // An exact multiple of the limit ends without a dangling empty page.
  auto full = store.ListJobs(JobFilter{.limit = 7});
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->jobs.size(), 7u);
  EXPECT_FALSE(full->next_before_id.has_value());

  EXPECT_EQ(store.ListJobs(JobFilter{.limit = 0}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.ListJobs(JobFilter{.limit = 100000}).error().field(), "limit");
}

TEST_F(JobStoreTest, ListFiltersByStateUserAndName) {
  Store& store = OpenStore();
  store.CreateJob(MakeJob("alice", "mnist-a", JobState::kQueued)).value();
  store.CreateJob(MakeJob("alice", "cifar", JobState::kRunning)).value();
  store.CreateJob(MakeJob("bob", "mnist-b", JobState::kCompleted)).value();
  store.CreateJob(MakeJob("bob", "mnist-c", JobState::kRunning)).value();

  auto names = [&](const JobFilter& f) {
    std::vector<std::string> out;
    auto page = store.ListJobs(f);
    EXPECT_TRUE(page.has_value());
    for (const Job& j : page->jobs) out.push_back(j.spec.name);
    return out;
  };
  EXPECT_EQ(names({.user = "alice"}), (std::vector<std::string>{"cifar", "mnist-a"}));
  EXPECT_EQ(names({.states = {JobState::kRunning}}), (std::vector<std::string>{"mnist-c", "cifar"}));
  EXPECT_EQ(names({.states = {JobState::kRunning, JobState::kCompleted, JobState::kRunning}}),
            (std::vector<std::string>{"mnist-c", "mnist-b", "cifar"}));
  EXPECT_EQ(names({.name = "mnist"}), (std::vector<std::string>{"mnist-c", "mnist-b", "mnist-a"}));
  EXPECT_EQ(names({.states = {JobState::kRunning}, .user = "bob", .name = "mnist"}),
            (std::vector<std::string>{"mnist-c"}));
  EXPECT_TRUE(names({.user = "carol"}).empty());
  // A name with LIKE wildcards is matched literally.
  EXPECT_TRUE(names({.name = "%"}).empty());

  auto unfinished = store.ListUnfinishedJobs().value();
  ASSERT_EQ(unfinished.size(), 3u);
  EXPECT_EQ(unfinished[0].spec.name, "mnist-a");
  EXPECT_EQ(unfinished[2].spec.name, "mnist-c");

  auto counts = store.CountJobsByState().value();
  EXPECT_EQ(counts.size(), 7u);
  EXPECT_EQ(counts[JobState::kRunning], 2);
  EXPECT_EQ(counts[JobState::kQueued], 1);
  EXPECT_EQ(counts[JobState::kCompleted], 1);
  EXPECT_EQ(counts[JobState::kFailed], 0);
}

TEST_F(JobStoreTest, DeleteCascadesToMetricsAndRevokesJobTokens) {
  Store& store = OpenStore();
  JobId keep = store.CreateJob(MakeJob("u", "keep")).value().id;
  JobId gone = store.CreateJob(MakeJob("u", "gone")).value().id;
  ASSERT_TRUE(store.AppendMetrics(gone, {{.step = 0, .name = "loss", .value = 1}, {.step = 1, .name = "acc", .value = 2}})
                  .ok());
  ASSERT_TRUE(store.AppendMetrics(keep, {{.step = 0, .name = "loss", .value = 3}}).ok());
  ASSERT_TRUE(store.CreateToken({.user = "u", .job_scope = gone, .hash = "h-gone"}).has_value());
  ASSERT_TRUE(store.CreateToken({.user = "u", .job_scope = 0, .hash = "h-user"}).has_value());

  ASSERT_TRUE(store.DeleteJob(gone).ok());
  EXPECT_EQ(store.GetJob(gone).error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store.MetricNames(gone).value().empty());
  EXPECT_EQ(store.QueryMetrics(gone, {}, {}, {}, 100).error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store.FindTokenByHash("h-gone").value()->revoked);
  EXPECT_FALSE(store.FindTokenByHash("h-user").value()->revoked);
  // The other job's metrics are untouched.
  auto kept = store.QueryMetrics(keep, {}, {}, {}, 100).value();
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].points, (std::vector<std::pair<int64_t, double>>{{0, 3.0}}));

  EXPECT_EQ(store.DeleteJob(gone).code(), StatusCode::kNotFound);
}

TEST_F(JobStoreTest, AcknowledgedWritesAreVisibleToConcurrentReaders) {
  Store& store = OpenStore();
  std::atomic<JobId> newest{0};
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, misses{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 6; ++r) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        JobId id = newest.load();
        if (id == 0) continue;
        // Any id acknowledged before this read started must be readable.
        if (!store.GetJob(id).has_value()) ++misses;
        auto page = store.ListJobs(JobFilter{.limit = 5});
        if (!page.has_value() || page->jobs.empty() || page->jobs.front().id < id) ++misses;
        ++reads;
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto created = store.CreateJob(MakeJob("w", "v"));
        ASSERT_TRUE(created.has_value());
        JobId seen = newest.load();
        while (seen < created->id && !newest.compare_exchange_weak(seen, created->id)) {
        }
      }
    });
  }
  for (auto& th : writers) th.join();
  stop = true;
  for (auto& th : readers) th.join();
  EXPECT_EQ(misses.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace stoke::store
