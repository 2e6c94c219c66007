#include "service/job_service.h"

#include <openssl/rand.h>

#include <filesystem>

#include "archive/archive_extractor.h"
#include "archive/archive_writer.h"
#include "service/job_files.h"

namespace stoke::service {

namespace fs = std::filesystem;

namespace {
std::string RandomSuffix() {
  unsigned char b[4];
  RAND_bytes(b, sizeof(b));
  char out[9];
  std::snprintf(out, sizeof(out), "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
  return out;
}
}  // namespace

Status JobService::CheckFitsPool(const Resources& r) const {
  if (r.gpus > static_cast<int>(pool_.gpus.size())) {
    return Status::InvalidArgument("asks for " + std::to_string(r.gpus) + " GPU(s) but the pool has " +
                                       std::to_string(pool_.gpus.size()),
                                   "resources.gpus");
  }
  if (r.cpus > pool_.cpu_slots) {
    return Status::InvalidArgument("asks for " + std::to_string(r.cpus) + " CPU slot(s) but the pool has " +
                                       std::to_string(pool_.cpu_slots),
                                   "resources.cpus");
  }
  if (pool_.memory_bytes > 0 && r.memory_bytes > pool_.memory_bytes) {
    return Status::InvalidArgument("asks for more memory than the pool has (" + std::to_string(pool_.memory_bytes) +
                                       " bytes)",
                                   "resources.memory");
  }
  return Status::Ok();
}

Status JobService::CheckElastic(const JobSpec& spec) const {
  if (!deps_.runner.SupportsElastic()) {
    return Status::FailedPrecondition("this server cannot run elastic jobs: stoke-worker was not found (Stoke built "
                                      "without libtorch?)");
  }
  Resources all = spec.resources;  // what workers.min workers ask together
  all.cpus *= spec.elastic.min_workers;
  all.gpus *= spec.elastic.min_workers;
  all.memory_bytes *= spec.elastic.min_workers;
  if (Status s = CheckFitsPool(all); !s.ok()) {
    return Status::InvalidArgument("workers.min=" + std::to_string(spec.elastic.min_workers) +
                                       " workers can never fit the pool: " + s.message(),
                                   "workers.min");
  }
  return Status::Ok();
}

Result<Job> JobService::Scale(const Principal& who, JobId id, int workers) {
  STOKE_ASSIGN_OR_RETURN(Job job, GetVisible(who, id));
  if (job.spec.type != JobType::kElastic) {
    return Err(Status::InvalidArgument("job " + std::to_string(id) + " is not an elastic job", "id"));
  }
  if (workers < 1 || workers > job.spec.elastic.max_workers) {
    return Err(Status::InvalidArgument("workers must be between 1 and the job's workers.max (" +
                                           std::to_string(job.spec.elastic.max_workers) + ")",
                                       "workers"));
  }
  if (job.state != JobState::kRunning && job.state != JobState::kStarting) {
    return Err(Status::FailedPrecondition("job " + std::to_string(id) + " is " + std::string(JobStateName(job.state)) +
                                          "; only a running job can be scaled"));
  }
  STOKE_RETURN_IF_ERROR(deps_.runner.RequestScale(id, workers));
  return job;
}

Result<Job> JobService::Submit(const Principal& who, JobSpec spec, const std::optional<std::string>& code_archive) {
  if (who.job_scope != 0) return Err(Status::PermissionDenied("a job token cannot submit jobs"));
  STOKE_RETURN_IF_ERROR(CheckFitsPool(spec.resources));
  if (spec.type == JobType::kElastic) STOKE_RETURN_IF_ERROR(CheckElastic(spec));
  std::error_code ec;
  if (!spec.working_dir.empty() && !fs::is_directory(spec.working_dir, ec)) {
    return Err(Status::InvalidArgument("working_dir " + spec.working_dir + " is not an existing directory",
                                       "working_dir"));
  }
  if (code_archive && !spec.working_dir.empty()) {
    return Err(Status::InvalidArgument("give either a code archive or working_dir, not both", "working_dir"));
  }
  // Everything the job needs on disk exists before the store commits it: a crash leaves at most
  // an unreferenced directory, never an accepted job without its code.
  UnixMillis now = deps_.clock.NowMillis();
  JobFiles files(data_dir_ + "/jobs/" + std::to_string(now) + "-" + RandomSuffix());
  if (code_archive) {
    fs::create_directories(files.dir(), ec);
    archive::ExtractLimits limits;
    if (Status s = archive::ExtractArchive(*code_archive, files.WorkDir(), limits); !s.ok()) {
      (void)files.Remove();
      return Err(s);
    }
    spec.has_code_archive = true;
  }
  if (Status s = files.Create(); !s.ok()) {
    (void)files.Remove();
    return Err(s);
  }
  Job job;
  job.user = who.user;
  job.spec = std::move(spec);
  job.state = JobState::kQueued;
  job.created_at = now;
  job.job_dir = files.dir();
  auto created = deps_.store.CreateJob(std::move(job));
  if (!created) {
    (void)files.Remove();
    return created;
  }
  deps_.runner.Wake();
  return created;
}

Result<Job> JobService::GetVisible(const Principal& who, JobId id) {
  auto job = deps_.store.GetJob(id);
  if (!job) {
    if (job.error().code() == StatusCode::kNotFound) return Err(Status::NotFound("no job " + std::to_string(id)));
    return job;
  }
  if (!who.CanSee(*job)) return Err(Status::NotFound("no job " + std::to_string(id)));
  AnnotateWaiting(*job);
  return job;
}

void JobService::AnnotateWaiting(Job& job) const {
  if (job.state == JobState::kQueued && job.reason.empty()) job.reason = deps_.runner.WaitingReason(job.id);
  if (job.spec.type == JobType::kElastic && !IsTerminal(job.state)) job.workers = deps_.runner.Workers(job.id);
}

Result<Job> JobService::Get(const Principal& who, JobId id) { return GetVisible(who, id); }

Result<store::JobPage> JobService::List(const Principal& who, store::JobFilter filter) {
  if (who.job_scope != 0) {
    STOKE_ASSIGN_OR_RETURN(Job job, GetVisible(who, who.job_scope));
    return store::JobPage{{job}, std::nullopt};
  }
  if (!who.admin) {
    if (!filter.user.empty() && filter.user != who.user) {
      return Err(Status::PermissionDenied("only admins list other users' jobs"));
    }
    filter.user = who.user;
  }
  STOKE_ASSIGN_OR_RETURN(store::JobPage page, deps_.store.ListJobs(filter));
  for (Job& j : page.jobs) AnnotateWaiting(j);
  return page;
}

Result<Job> JobService::Kill(const Principal& who, JobId id, int grace_s) {
  if (who.job_scope != 0 && who.job_scope != id) return Err(Status::NotFound("no job " + std::to_string(id)));
  for (int attempt = 0; attempt < 3; ++attempt) {
    STOKE_ASSIGN_OR_RETURN(Job job, GetVisible(who, id));
    if (IsTerminal(job.state)) return job;
    JobState before = job.state;
    if (before == JobState::kQueued) {
      job.state = JobState::kKilled;
      job.reason = "killed by " + who.user + " while queued";
      job.finished_at = deps_.clock.NowMillis();
    } else {
      if (job.reason.starts_with("kill requested")) {
        deps_.runner.RequestKill(id, grace_s, who.user);
        return job;
      }
      job.reason = "kill requested by " + who.user;
    }
    Status s = deps_.store.UpdateJob(job, before);
    if (s.code() == StatusCode::kAborted) continue;  // it moved on meanwhile; look again
    STOKE_RETURN_IF_ERROR(s);
    if (before != JobState::kQueued) deps_.runner.RequestKill(id, grace_s, who.user);
    deps_.runner.Wake();
    return job;
  }
  return Err(Status::Aborted("job " + std::to_string(id) + " kept changing state; try again"));
}

Status JobService::Delete(const Principal& who, JobId id) {
  if (who.job_scope != 0) return Status::PermissionDenied("a job token cannot delete jobs");
  STOKE_ASSIGN_OR_RETURN(Job job, GetVisible(who, id));
  if (!IsTerminal(job.state) || deps_.runner.IsActive(id)) {
    return Status::FailedPrecondition("job " + std::to_string(id) + " is " + std::string(JobStateName(job.state)) +
                                      "; kill it before deleting");
  }
  STOKE_RETURN_IF_ERROR(deps_.store.DeleteJob(id));
  if (!job.job_dir.empty()) (void)JobFiles(job.job_dir).Remove();
  return Status::Ok();
}

Result<int64_t> JobService::PostMetrics(const Principal& who, JobId id, std::vector<store::MetricPoint> points) {
  STOKE_ASSIGN_OR_RETURN(Job job, GetVisible(who, id));
  UnixMillis now = deps_.clock.NowMillis();
  for (auto& p : points) p.time = now;
  STOKE_RETURN_IF_ERROR(deps_.store.AppendMetrics(job.id, points));
  return static_cast<int64_t>(points.size());
}

Result<std::vector<store::MetricSeries>> JobService::QueryMetrics(const Principal& who, JobId id,
                                                                  const std::vector<std::string>& names,
                                                                  std::optional<int64_t> from,
                                                                  std::optional<int64_t> to, int max_points) {
  STOKE_ASSIGN_OR_RETURN(Job job, GetVisible(who, id));
  return deps_.store.QueryMetrics(job.id, names, from, to, max_points);
}

Result<std::string> JobService::PackResult(const Principal& who, JobId id, bool zip) {
  STOKE_ASSIGN_OR_RETURN(Job job, GetVisible(who, id));
  JobFiles files(job.job_dir);
  std::error_code ec;
  fs::create_directories(data_dir_ + "/tmp", ec);
  std::string out = data_dir_ + "/tmp/result-" + std::to_string(id) + "-" + RandomSuffix() + (zip ? ".zip" : ".tar.gz");
  fs::create_directories(files.ResultDir(), ec);
  STOKE_RETURN_IF_ERROR(
      archive::WriteArchive(files.ResultDir(), out, zip ? archive::ArchiveFormat::kZip : archive::ArchiveFormat::kTarGz));
  return out;
}

}  // namespace stoke::service
