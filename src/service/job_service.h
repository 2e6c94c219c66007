#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/job.h"
#include "common/status.h"
#include "service/job_runner.h"
#include "service/principal.h"
#include "store/store.h"

namespace stoke::service {

// The request-facing side of jobs: validation against the pool, ownership checks, the durable
// write, then a nudge to the runner. Thread-safe (state lives in the store and the runner).
class JobService {
 public:
  struct Deps {
    store::Store& store;
    JobRunner& runner;
    const Clock& clock;
  };
  JobService(Deps deps, std::string data_dir, PoolConfig pool)
      : deps_(deps), data_dir_(std::move(data_dir)), pool_(std::move(pool)) {}

  // `code_archive` is a file holding an uploaded tar/tar.gz/zip, unpacked into the working dir.
  Result<Job> Submit(const Principal& who, JobSpec spec, const std::optional<std::string>& code_archive);
  Result<Job> Get(const Principal& who, JobId id);
  Result<store::JobPage> List(const Principal& who, store::JobFilter filter);
  Result<Job> Kill(const Principal& who, JobId id, int grace_s);
  Status Delete(const Principal& who, JobId id);
  // Elastic jobs: force `workers` worker processes (1..workers.max), as `stoke scale` does.
  Result<Job> Scale(const Principal& who, JobId id, int workers);

  Result<int64_t> PostMetrics(const Principal& who, JobId id, std::vector<store::MetricPoint> points);
  Result<std::vector<store::MetricSeries>> QueryMetrics(const Principal& who, JobId id,
                                                        const std::vector<std::string>& names,
                                                        std::optional<int64_t> from, std::optional<int64_t> to,
                                                        int max_points);

  // Path of a temporary archive of the job's result dir; the caller deletes it.
  Result<std::string> PackResult(const Principal& who, JobId id, bool zip);

  const PoolConfig& pool() const { return pool_; }
  // InvalidArgument naming resources.<kind> when `r` can never fit the pool.
  Status CheckFitsPool(const Resources& r) const;

 private:
  Result<Job> GetVisible(const Principal& who, JobId id);
  // Adds what only the runner knows: why a queued job waits, an elastic job's workers.
  void AnnotateWaiting(Job& job) const;
  Status CheckElastic(const JobSpec& spec) const;

  Deps deps_;
  std::string data_dir_;
  PoolConfig pool_;
};

}  // namespace stoke::service
