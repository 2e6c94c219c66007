#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/text.h"
#include "api/job_json.h"
#include "api/json_reader.h"
#include "api/routes.h"
#include "service/job_files.h"

namespace stoke::api {

using nlohmann::json;
using service::JobFiles;
using service::JobService;

namespace {

constexpr size_t kMaxMetricItems = 100000;

// A temporary file that deletes itself.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

Status SubmitJob(JobService& jobs, const httplib::Request& req, httplib::Response& res, const RequestContext& ctx) {
  std::string type = req.get_header_value("Content-Type");
  json body;
  std::optional<std::string> archive;
  TempFile temp;
  if (type.starts_with("multipart/form-data")) {
    if (!req.has_file("spec")) {
      return Status::InvalidArgument("multipart submission needs a part named spec (the job JSON)", "spec");
    }
    const auto& spec_part = req.get_file_value("spec");
    STOKE_ASSIGN_OR_RETURN(body, ParseJsonText(spec_part.content));
    if (req.has_file("code")) {
      const auto& code = req.get_file_value("code");
      if (code.content.empty()) return Status::InvalidArgument("the code archive is empty", "code");
      char tmpl[] = "/tmp/stoke-upload-XXXXXX";
      int fd = ::mkstemp(tmpl);
      if (fd < 0) return Status::Internal("cannot store the upload");
      temp.path = tmpl;
      size_t off = 0;
      while (off < code.content.size()) {
        ssize_t n = ::write(fd, code.content.data() + off, code.content.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      ::close(fd);
      archive = temp.path;
    }
  } else {
    STOKE_ASSIGN_OR_RETURN(body, JsonBody(req));
  }
  STOKE_ASSIGN_OR_RETURN(JobSpec spec, ParseJobSpec(body));
  STOKE_ASSIGN_OR_RETURN(Job job, jobs.Submit(ctx.principal, std::move(spec), archive));
  WriteJson(res, 201, JobToJson(job).dump());
  return Status::Ok();
}

Status ListJobs(JobService& jobs, const httplib::Request& req, httplib::Response& res, const RequestContext& ctx) {
  store::JobFilter filter;
  if (req.has_param("state")) {
    std::string states = req.get_param_value("state");
    size_t start = 0;
    while (start <= states.size()) {
      size_t comma = states.find(',', start);
      std::string name = states.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!name.empty()) {
        auto st = ParseJobState(name);
        if (!st) return Status::InvalidArgument("unknown state \"" + name + "\"", "state");
        filter.states.push_back(*st);
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (req.has_param("user")) filter.user = req.get_param_value("user");
  if (req.has_param("name")) filter.name = req.get_param_value("name");
  STOKE_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 500));
  filter.limit = static_cast<int>(limit.value_or(50));
  STOKE_ASSIGN_OR_RETURN(auto cursor, QueryInt(req, "cursor", 1, INT64_MAX));
  if (cursor) filter.before_id = *cursor;
  STOKE_ASSIGN_OR_RETURN(store::JobPage page, jobs.List(ctx.principal, filter));
  json out = {{"jobs", json::array()}, {"next_cursor", nullptr}};
  for (const Job& j : page.jobs) out["jobs"].push_back(JobToJson(j));
  if (page.next_before_id) out["next_cursor"] = std::to_string(*page.next_before_id);
  WriteJson(res, 200, out.dump());
  return Status::Ok();
}

// Parses {"metrics":[{"step":1,"values":{"loss":0.5}}]} or the bare array.
Result<std::vector<store::MetricPoint>> ParseMetricsBody(const json& body) {
  const json* items = &body;
  if (body.is_object()) {
    STOKE_ASSIGN_OR_RETURN(JsonObjectReader reader, JsonObjectReader::Make(body));
    items = reader.Raw("metrics");
    STOKE_RETURN_IF_ERROR(reader.Finish());
    if (items == nullptr) return Err(Status::InvalidArgument("metrics is required", "metrics"));
  }
  if (!items->is_array()) return Err(Status::InvalidArgument("metrics must be an array", "metrics"));
  if (items->size() > kMaxMetricItems) {
    return Err(Status::ResourceExhausted("at most 100000 metric items per request", "metrics"));
  }
  std::vector<store::MetricPoint> points;
  for (size_t i = 0; i < items->size(); ++i) {
    std::string path = "metrics." + std::to_string(i);
    STOKE_ASSIGN_OR_RETURN(JsonObjectReader item, JsonObjectReader::Make((*items)[i], path));
    STOKE_ASSIGN_OR_RETURN(auto step, item.Int("step", 0, INT64_MAX / 2));
    if (!step) return Err(Status::InvalidArgument(path + ".step is required", path + ".step"));
    const json* values = item.Raw("values");
    STOKE_RETURN_IF_ERROR(item.Finish());
    if (values == nullptr || !values->is_object() || values->empty()) {
      return Err(Status::InvalidArgument(path + ".values must be a non-empty object of numbers", path + ".values"));
    }
    for (const auto& [name, v] : values->items()) {
      std::string field = path + ".values." + name;
      if (name.empty() || name.size() > 128) return Err(Status::InvalidArgument("metric names are 1-128 chars", field));
      if (!v.is_number() || !std::isfinite(v.get<double>())) {
        return Err(Status::InvalidArgument(field + " must be a finite number", field));
      }
      points.push_back(store::MetricPoint{*step, name, v.get<double>(), 0});
    }
  }
  return points;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string SseEncode(const std::string& chunk) {
  std::string out;
  size_t start = 0;
  while (start < chunk.size()) {
    size_t nl = chunk.find('\n', start);
    std::string line = chunk.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    out += "data: " + line + "\n\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

Status GetLogs(JobService& jobs, const httplib::Request& req, httplib::Response& res, const RequestContext& ctx) {
  STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
  STOKE_ASSIGN_OR_RETURN(Job job, jobs.Get(ctx.principal, id));
  STOKE_ASSIGN_OR_RETURN(auto offset, QueryInt(req, "offset", 0, INT64_MAX));
  STOKE_ASSIGN_OR_RETURN(auto tail, QueryInt(req, "tail", 0, 1000000));
  std::string follow = req.get_param_value("follow");
  if (!follow.empty() && follow != "true" && follow != "false" && follow != "1" && follow != "0") {
    return Status::InvalidArgument("follow must be true or false", "follow");
  }
  bool follow_on = follow == "true" || follow == "1";
  JobFiles files(job.job_dir);
  if (!follow_on) {
    std::string text = files.ReadFrom(files.LogPath(), offset.value_or(0));
    int64_t end = offset.value_or(0) + static_cast<int64_t>(text.size());
    if (tail) text = TailLines(text, *tail);
    res.set_header("X-Stoke-Log-Offset", std::to_string(end));
    res.status = 200;
    res.set_content(text, "text/plain; charset=utf-8");
    return Status::Ok();
  }
  bool sse = req.get_header_value("Accept").find("text/event-stream") != std::string::npos;
  int64_t start = offset.value_or(0);
  if (tail) {
    std::string text = files.ReadFrom(files.LogPath(), start);
    std::string tailed = TailLines(text, *tail);
    start += static_cast<int64_t>(text.size() - tailed.size());
  }
  service::Principal who = ctx.principal;
  auto pos = std::make_shared<int64_t>(start);
  auto finished = std::make_shared<bool>(false);
  res.status = 200;
  res.set_header("X-Content-Type-Options", "nosniff");  // browsers render streamed text as it comes
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      sse ? "text/event-stream" : "text/plain; charset=utf-8",
      [&jobs, who, id, files, pos, finished, sse](size_t, httplib::DataSink& sink) {
        if (*finished) {
          sink.done();
          return true;
        }
        // Poll the file; a finished job ends the stream once everything written has been sent.
        for (int i = 0; i < 50 && sink.is_writable(); ++i) {
          std::string chunk = files.ReadFrom(files.LogPath(), *pos, 1 << 20);
          if (sse) {
            // SSE carries whole lines: a partial last line waits for its newline (or the job's end).
            size_t nl = chunk.rfind('\n');
            chunk.resize(nl == std::string::npos ? 0 : nl + 1);
          }
          if (!chunk.empty()) {
            *pos += static_cast<int64_t>(chunk.size());
            std::string out = sse ? SseEncode(chunk) : chunk;
            return sink.write(out.data(), out.size());
          }
          auto job = jobs.Get(who, id);
          if (!job || IsTerminal(job->state)) {
            std::string rest = files.ReadFrom(files.LogPath(), *pos, 1 << 20);
            if (!rest.empty()) {
              *pos += static_cast<int64_t>(rest.size());
              std::string out = sse ? SseEncode(rest) : rest;
              if (!sink.write(out.data(), out.size())) return false;
              return true;
            }
            if (sse) {
              std::string end = "event: end\ndata: " + (job ? std::string(JobStateName(job->state)) : "DELETED") + "\n\n";
              sink.write(end.data(), end.size());
            }
            *finished = true;
            sink.done();
            return true;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (sse) {
          static const std::string kKeepAlive = ": keep-alive\n\n";
          return sink.write(kKeepAlive.data(), kKeepAlive.size());
        }
        return sink.is_writable();
      });
  return Status::Ok();
}

Status GetResult(JobService& jobs, const httplib::Request& req, httplib::Response& res, const RequestContext& ctx) {
  STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
  std::string format = req.has_param("format") ? req.get_param_value("format") : "tar.gz";
  if (format != "tar.gz" && format != "zip") {
    return Status::InvalidArgument("format must be tar.gz or zip", "format");
  }
  bool zip = format == "zip";
  STOKE_ASSIGN_OR_RETURN(std::string path, jobs.PackResult(ctx.principal, id, zip));
  SendTemporaryFile(res, path, "job-" + std::to_string(id) + "-result." + format,
                    zip ? "application/zip" : "application/gzip");
  return Status::Ok();
}

Status GetMetrics(JobService& jobs, const httplib::Request& req, httplib::Response& res, const RequestContext& ctx) {
  STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
  std::vector<std::string> names = SplitComma(req.get_param_value("name"));
  STOKE_ASSIGN_OR_RETURN(auto from, QueryInt(req, "from", 0, INT64_MAX));
  STOKE_ASSIGN_OR_RETURN(auto to, QueryInt(req, "to", 0, INT64_MAX));
  STOKE_ASSIGN_OR_RETURN(auto points, QueryInt(req, "points", 2, 100000));
  STOKE_ASSIGN_OR_RETURN(auto series, jobs.QueryMetrics(ctx.principal, id, names, from, to,
                                                        static_cast<int>(points.value_or(1000))));
  json out = {{"series", json::array()}};
  for (const auto& s : series) {
    json pts = json::array();
    for (const auto& [step, value] : s.points) pts.push_back({step, value});
    out["series"].push_back({{"name", s.name}, {"count", s.count}, {"points", std::move(pts)}});
  }
  WriteJson(res, 200, out.dump());
  return Status::Ok();
}

}  // namespace

std::vector<Route> JobRoutes(JobService& jobs) {
  std::vector<Route> r;
  r.push_back({"POST", "/api/v1/jobs", "/api/v1/jobs", "Submit a command job (JSON, or multipart with spec + code archive)",
               true, [&jobs](const auto& req, auto& res, const auto& ctx) { return SubmitJob(jobs, req, res, ctx); }});
  r.push_back({"GET", "/api/v1/jobs", "/api/v1/jobs", "List jobs, newest first, with cursor pagination", true,
               [&jobs](const auto& req, auto& res, const auto& ctx) { return ListJobs(jobs, req, res, ctx); },
               {"state", "user", "name", "limit", "cursor"}});
  r.push_back({"GET", R"(/api/v1/jobs/(\d+))", "/api/v1/jobs/{id}", "Get one job", true,
               [&jobs](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                 STOKE_ASSIGN_OR_RETURN(Job job, jobs.Get(ctx.principal, id));
                 WriteJson(res, 200, JobToJson(job).dump());
                 return Status::Ok();
               }});
  r.push_back({"DELETE", R"(/api/v1/jobs/(\d+))", "/api/v1/jobs/{id}", "Delete a finished job, its metrics and files",
               true, [&jobs](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                 STOKE_RETURN_IF_ERROR(jobs.Delete(ctx.principal, id));
                 res.status = 204;
                 return Status::Ok();
               }});
  r.push_back({"POST", R"(/api/v1/jobs/(\d+)/kill)", "/api/v1/jobs/{id}/kill",
               "Kill a job's whole process tree (SIGTERM, SIGKILL after grace_s)", true,
               [&jobs](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                 STOKE_ASSIGN_OR_RETURN(auto grace, QueryInt(req, "grace_s", 0, 3600));
                 STOKE_ASSIGN_OR_RETURN(Job job, jobs.Kill(ctx.principal, id, static_cast<int>(grace.value_or(-1))));
                 WriteJson(res, 202, JobToJson(job).dump());
                 return Status::Ok();
               },
               {"grace_s"}});
  r.push_back({"POST", R"(/api/v1/jobs/(\d+)/scale)", "/api/v1/jobs/{id}/scale",
               "Elastic jobs: force the number of workers, {\"workers\": N} (1..workers.max)", true,
               [&jobs](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                 STOKE_ASSIGN_OR_RETURN(json body, JsonBody(req));
                 STOKE_ASSIGN_OR_RETURN(JsonObjectReader reader, JsonObjectReader::Make(body));
                 STOKE_ASSIGN_OR_RETURN(auto workers, reader.Int("workers", 1, 4096));
                 STOKE_RETURN_IF_ERROR(reader.Finish());
                 if (!workers) return Status::InvalidArgument("workers is required", "workers");
                 STOKE_ASSIGN_OR_RETURN(Job job, jobs.Scale(ctx.principal, id, static_cast<int>(*workers)));
                 json out = JobToJson(job);
                 out["requested_workers"] = *workers;
                 WriteJson(res, 202, out.dump());
                 return Status::Ok();
               }});
  r.push_back({"GET", R"(/api/v1/jobs/(\d+)/logs)", "/api/v1/jobs/{id}/logs",
               "Job output (stdout+stderr); follow=true streams live (chunked, or SSE with Accept: text/event-stream)",
               true, [&jobs](const auto& req, auto& res, const auto& ctx) { return GetLogs(jobs, req, res, ctx); },
               {"offset", "tail", "follow"}});
  r.push_back({"GET", R"(/api/v1/jobs/(\d+)/result)", "/api/v1/jobs/{id}/result",
               "The job's result directory as tar.gz (default) or zip", true,
               [&jobs](const auto& req, auto& res, const auto& ctx) { return GetResult(jobs, req, res, ctx); },
               {"format"}});
  r.push_back({"POST", R"(/api/v1/jobs/(\d+)/metrics)", "/api/v1/jobs/{id}/metrics",
               "Report metrics: {metrics:[{step, values:{name:number}}]}", true,
               [&jobs](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                 STOKE_ASSIGN_OR_RETURN(json body, JsonBody(req, 16 << 20));
                 STOKE_ASSIGN_OR_RETURN(auto points, ParseMetricsBody(body));
                 size_t items = body.is_array() ? body.size() : body["metrics"].size();
                 auto posted = jobs.PostMetrics(ctx.principal, id, std::move(points));
                 if (!posted) return posted.error();
                 WriteJson(res, 200, json{{"accepted", items}}.dump());
                 return Status::Ok();
               }});
  r.push_back({"GET", R"(/api/v1/jobs/(\d+)/metrics)", "/api/v1/jobs/{id}/metrics",
               "Metric series, downsampled server-side to at most `points` per series", true,
               [&jobs](const auto& req, auto& res, const auto& ctx) { return GetMetrics(jobs, req, res, ctx); },
               {"name", "from", "to", "points"}});
  return r;
}

}  // namespace stoke::api
