// Measures the store's write throughput (with fsync per commit) and metric queries.
// Usage: store_bench [dir]   (default: a fresh directory under the system temp dir)
// Prints one line per measurement. Not a test: numbers depend on the machine's disk.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using stoke::Job;
using stoke::store::Store;

// CPU time of the calling thread: unlike wall time, not inflated by other processes.
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

Job BenchJob(int t, int i) {
  Job job;
  job.user = "user" + std::to_string(t % 8);
  job.spec.name = "bench-" + std::to_string(i);
  job.spec.argv = {"python", "train.py", "--lr", "0.1", "--epochs", "10"};
  job.spec.env = {{"A", "1"}, {"B", "2"}};
  job.spec.resources.gpus = 1;
  job.created_at = 1700000000000 + i;
  return job;
}

std::unique_ptr<Store> OpenOrDie(const std::string& path) {
  auto store = Store::Open(stoke::store::Options{.path = path});
  if (!store) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), store.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(*store);
}

// CreateJob from `threads` threads for about `seconds`; prints jobs/s and mean group size.
void CreateJobs(const std::string& path, int threads, double seconds) {
  std::filesystem::remove(path);
  auto store = OpenOrDie(path);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> done{0}, failed{0};
  std::vector<std::thread> pool;
  Clock::time_point start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        if (store->CreateJob(BenchJob(t, i)).has_value()) {
          done.fetch_add(1, std::memory_order_relaxed);
        } else {
          failed.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  double elapsed = Seconds(start);
  Store::WriteStats stats = store->write_stats();
  std::printf("create_job threads=%d jobs=%lld failed=%lld seconds=%.2f jobs_per_s=%.0f commits=%lld "
              "mean_group=%.1f\n",
              threads, static_cast<long long>(done.load()), static_cast<long long>(failed.load()), elapsed,
              done.load() / elapsed, static_cast<long long>(stats.commits),
              stats.commits ? double(stats.writes) / stats.commits : 0.0);
}

void Metrics(const std::string& path, int64_t total, int batch) {
  std::filesystem::remove(path);
  auto store = OpenOrDie(path);
  stoke::JobId id = store->CreateJob(BenchJob(0, 0)).value().id;
  Clock::time_point start = Clock::now();
  std::vector<stoke::store::MetricPoint> points;
  for (int64_t s = 0; s < total; s += batch) {
    points.clear();
    for (int64_t k = s; k < std::min(total, s + batch); ++k) {
      points.push_back({.step = k, .name = "loss", .value = 1.0 / (1.0 + k) + (k % 997 == 0 ? 5.0 : 0.0), .time = k});
    }
    stoke::Status st = store->AppendMetrics(id, points);
    if (!st.ok()) {
      std::fprintf(stderr, "append: %s\n", st.ToString().c_str());
      std::exit(1);
    }
  }
  double insert_s = Seconds(start);
  std::printf("append_metrics points=%lld batch=%d seconds=%.2f points_per_s=%.0f\n", static_cast<long long>(total),
              batch, insert_s, total / insert_s);

  for (int max_points : {1000, 10000}) {
    std::vector<double> ms, cpu_ms;
    size_t returned = 0;
    int64_t count = 0;
    for (int rep = 0; rep < 7; ++rep) {
      Clock::time_point q = Clock::now();
      double cpu = ThreadCpuMs();
      auto series = store->QueryMetrics(id, {"loss"}, std::nullopt, std::nullopt, max_points);
      cpu_ms.push_back(ThreadCpuMs() - cpu);
      ms.push_back(Seconds(q) * 1000);
      if (!series || series->size() != 1) {
        std::fprintf(stderr, "query failed\n");
        std::exit(1);
      }
      returned = (*series)[0].points.size();
      count = (*series)[0].count;
    }
    std::sort(ms.begin(), ms.end());
    std::sort(cpu_ms.begin(), cpu_ms.end());
    std::printf("query_metrics series_points=%lld points=%d returned=%zu count=%lld wall_ms(min/median/max)=%.1f/%.1f/%.1f "
                "cpu_ms_median=%.1f\n",
                static_cast<long long>(total), max_points, returned, static_cast<long long>(count), ms.front(),
                ms[ms.size() / 2], ms.back(), cpu_ms[cpu_ms.size() / 2]);
  }
  // A narrow window of the same series (what zooming in a chart asks).
  Clock::time_point q = Clock::now();
  auto window = store->QueryMetrics(id, {"loss"}, total / 2, total / 2 + 50000, 1000);
  std::printf("query_metrics window=50000 points=1000 ms=%.1f returned=%zu\n", Seconds(q) * 1000,
              window ? (*window)[0].points.size() : 0);
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path dir;
  if (argc > 1) {
    dir = argv[1];
    std::filesystem::create_directories(dir);
  } else {
    std::string tmpl = (std::filesystem::temp_directory_path() / "stoke_bench_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return 1;
    dir = tmpl;
  }
  std::string path = (dir / "bench.db").string();
  CreateJobs(path, 1, 3.0);
  CreateJobs(path, 32, 3.0);
  Metrics(path, 1000000, 10000);
  std::filesystem::remove_all(dir);
  return 0;
}
