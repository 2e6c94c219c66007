// The job commands: submit, ls, show, logs, kill, rm, result, metrics.
#include <algorithm>
#include <filesystem>
#include <cmath>
#include <sstream>
#include <thread>

#include "cli/api_client.h"
#include "common/byte_size.h"
#include "cli/code_archive.h"
#include "cli/command_support.h"
#include "cli/submit_request.h"
#include "cli/table.h"

namespace stoke::cli::internal {

using nlohmann::json;

std::string JobPath(int64_t id, std::string_view tail) { return "/jobs/" + std::to_string(id) + std::string(tail); }

namespace {

using EnvPtr = std::shared_ptr<const ClientEnvironment>;

bool IsTerminalState(const std::string& state) {
  return state == "COMPLETED" || state == "FAILED" || state == "KILLED" || state == "LOST";
}

// The process exit code `submit --wait` ends with for a finished job.
int ExitCodeForJob(const json& job) {
  std::string state = Str(job, "state");
  if (state == "COMPLETED") return kExitOk;
  if (state == "KILLED") return kExitKilled;
  if (state == "FAILED") {
    int64_t code = Int(job, "exit_code", 1);
    return code >= 1 && code <= 255 ? static_cast<int>(code) : kExitFailure;
  }
  return kExitFailure;  // LOST or anything unexpected
}

// ---- submit ----------------------------------------------------------------------------------

struct SubmitFlags {
  ConnectionFlags connection;
  SubmitOptions options;
};

// Polls the job until it ends, drawing progress on stderr; returns the final job.
json WaitForJob(const ClientEnvironment& env, const ApiClient& client, int64_t id) {
  auto started = env.clock->SteadyNow();
  std::string last_state;
  int transient_failures = 0;
  for (;;) {
    Result<json> job = client.Get(JobPath(id));
    if (!job) {
      // Ride out a server restart for a while; the job is durable on the server.
      if (job.error().code() == StatusCode::kUnavailable && ++transient_failures <= 30) {
        std::this_thread::sleep_for(env.poll_interval);
        continue;
      }
      if (env.err_is_tty) *env.err << "\n";
      Fail(env, job.error());
    }
    transient_failures = 0;
    std::string state = Str(*job, "state", "?");
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(env.clock->SteadyNow() - started).count();
    std::string line = "job " + std::to_string(id) + " " + state + " " + FormatDuration(elapsed);
    bool done = IsTerminalState(state);
    if (done) {
      line += " (exit " + FormatExit(*job) + ")";
      if (std::string reason = Str(*job, "reason"); !reason.empty()) line += ": " + reason;
    }
    if (env.err_is_tty) {
      *env.err << "\r\033[K" << line << (done ? "\n" : "");
      env.err->flush();
    } else if (state != last_state) {
      *env.err << line << "\n";
    }
    last_state = state;
    if (done) return *job;
    std::this_thread::sleep_for(env.poll_interval);
  }
}

void AddSubmit(CLI::App& app, EnvPtr env) {
  // The flags live as long as the callback that reads them (CLI11 binds options by reference).
  auto flags = std::make_shared<SubmitFlags>();
  CLI::App* cmd = app.add_subcommand("submit", "Submit a command job: stoke submit [flags] -- CMD ARGS...");
  SubmitOptions& o = flags->options;
  AddCommonJobFlags(*cmd, o, "");
  cmd->add_option("--name", o.name, "job name (default: the command's basename)");
  cmd->add_option("--dir", o.code_dir, "code directory, packed (tar.gz) and unpacked as the job's working dir");
  cmd->add_option("--workdir", o.working_dir, "server-side working directory (absolute path)");
  cmd->add_option("--hparams", o.hparams, "hyperparameters: a JSON object, or @file.json");
  cmd->add_option("command", o.argv, "the command and its arguments (after --)");
  AddConnectionFlags(*cmd, flags->connection);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    SubmitOptions options = flags->options;
    if (flags->options.working_dir.size() && flags->options.code_dir.size()) {
      Fail(e, Status::InvalidArgument("--dir and --workdir exclude each other", "dir"), kExitUsage);
    }
    json spec = Unwrap(e, BuildJobSpec(options), kExitUsage);
    ApiClient client = Connect(e, flags->connection);
    json job;
    if (!options.code_dir.empty()) {
      std::string code = Unwrap(e, PackCodeDirectory(options.code_dir));
      job = Unwrap(e, client.PostMultipart("/jobs", {{"spec", spec.dump(), "", "application/json"},
                                                     {"code", std::move(code), "code.tar.gz", "application/gzip"}}));
    } else {
      job = Unwrap(e, client.Post("/jobs", spec));
    }
    ReportSubmitted(e, client, flags->connection, job, options.wait);
  });
}

}  // namespace

void AddCommonJobFlags(CLI::App& cmd, SubmitOptions& o, const std::string& per) {
  cmd.add_option("--gpus", o.gpus, "GPUs to allocate" + per);
  cmd.add_option("--cpus", o.cpus, "CPU slots to allocate" + per);
  cmd.add_option("--mem", o.memory, "memory limit" + per + ": bytes or K/M/G/T (powers of 1024), e.g. 4G");
  cmd.add_option("--priority", o.priority, "-1000..1000, higher runs first");
  cmd.add_option("--env", o.env, "KEY=VALUE for the environment (repeatable)")->allow_extra_args(false);
  cmd.add_option("--max-runtime", o.max_runtime_s, "kill the job after this many seconds");
  cmd.add_flag("--wait", o.wait, "wait for the job to end; exit with its exit code");
}

void ReportSubmitted(const ClientEnvironment& e, const ApiClient& client, const ConnectionFlags& connection,
                     const json& job, bool wait) {
  int64_t id = Int(job, "id", -1);
  if (!wait) {
    if (connection.json) {
      PrintJson(e, job);
    } else {
      *e.out << id << "\n";
    }
    return;
  }
  if (!connection.json) {
    *e.out << id << "\n";
    e.out->flush();
  }
  json final_job = WaitForJob(e, client, id);
  if (connection.json) PrintJson(e, final_job);
  e.out->flush();
  if (int code = ExitCodeForJob(final_job); code != kExitOk) Exit(code);
}

namespace {

// ---- ls --------------------------------------------------------------------------------------

struct LsFlags {
  ConnectionFlags connection;
  std::string state;
  bool all_users = false;
  int limit = 50;
};

void AddLs(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<LsFlags>();
  CLI::App* cmd = app.add_subcommand("ls", "List jobs, newest first");
  cmd->add_option("--state", flags->state, "only these states (comma list: RUNNING,QUEUED)");
  cmd->add_flag("--all-users", flags->all_users, "admins: everyone's jobs (default: your own)");
  cmd->add_option("--limit", flags->limit, "at most this many jobs")->check(CLI::PositiveNumber);
  AddConnectionFlags(*cmd, flags->connection);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, flags->connection);
    Query base;
    if (!flags->state.empty()) {
      std::string upper = flags->state;
      std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
      base.emplace_back("state", upper);
    }
    if (!flags->all_users) {
      // Admins see everyone's jobs by default on the server; narrow to their own unless asked.
      json me = Unwrap(e, client.Get("/whoami"));
      if (me.value("admin", false)) base.emplace_back("user", Str(me, "user"));
    }
    json jobs = json::array();
    std::string cursor;
    while (static_cast<int>(jobs.size()) < flags->limit) {
      Query query = base;
      query.emplace_back("limit", std::to_string(std::min(500, flags->limit - static_cast<int>(jobs.size()))));
      if (!cursor.empty()) query.emplace_back("cursor", cursor);
      json page = Unwrap(e, client.Get("/jobs", query));
      if (!page.contains("jobs") || !page["jobs"].is_array()) break;
      for (json& job : page["jobs"]) jobs.push_back(std::move(job));
      cursor = Str(page, "next_cursor");
      if (cursor.empty() || page["jobs"].empty()) break;
    }
    if (flags->connection.json) {
      PrintJson(e, json{{"jobs", jobs}});
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const json& job : jobs) {
      rows.push_back({std::to_string(Int(job, "id")), Str(job, "name"), Str(job, "user"), Str(job, "state"),
                      FormatExit(job), FormatResources(job.value("resources", json::object())),
                      Age(e, job, "created_at")});
    }
    *e.out << RenderTable({"ID", "NAME", "USER", "STATE", "EXIT", "RESOURCES", "AGE"}, rows);
  });
}

// ---- show ------------------------------------------------------------------------------------

struct IdFlags {
  ConnectionFlags connection;
  int64_t id = 0;
};

CLI::App* AddIdCommand(CLI::App& app, const std::string& name, const std::string& help, std::shared_ptr<IdFlags> flags,
                       bool with_json = true) {
  CLI::App* cmd = app.add_subcommand(name, help);
  cmd->add_option("id", flags->id, "job id")->required();
  AddConnectionFlags(*cmd, flags->connection, with_json);
  return cmd;
}

std::string FormatAllocation(const json& allocation) {
  if (!allocation.is_object()) return "-";
  auto list = [](const json& a) {
    std::string s;
    if (!a.is_array()) return s;
    for (const json& v : a) s += (s.empty() ? "" : ",") + v.dump();
    return s;
  };
  std::string out;
  if (allocation.contains("cpus") && !allocation["cpus"].empty()) out += "cpu " + list(allocation["cpus"]);
  if (allocation.contains("gpus") && !allocation["gpus"].empty()) {
    out += (out.empty() ? "" : "  ") + std::string("gpu ") + list(allocation["gpus"]);
  }
  return out.empty() ? "-" : out;
}

std::string FormatTimeField(const ClientEnvironment& e, const json& job, const char* key) {
  if (!Time(job, key)) return "-";
  return Str(job, key) + " (" + Age(e, job, key) + ")";
}

void AddShow(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<IdFlags>();
  CLI::App* cmd = AddIdCommand(app, "show", "Show one job", flags);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, flags->connection);
    json job = Unwrap(e, client.Get(JobPath(flags->id)));
    if (flags->connection.json) {
      PrintJson(e, job);
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id:", std::to_string(Int(job, "id"))},
        {"name:", Str(job, "name")},
        {"user:", Str(job, "user")},
        {"type:", Str(job, "type", "command")},
        {"state:", Str(job, "state")},
        {"exit code:", FormatExit(job)},
        {"reason:", Str(job, "reason", "-")},
        {"command:", JoinArgv(job.value("argv", json::array()))},
        {"resources:", FormatResources(job.value("resources", json::object()))},
        {"priority:", std::to_string(Int(job, "priority"))},
        {"allocation:", FormatAllocation(job.value("allocation", json()))},
        {"created:", FormatTimeField(e, job, "created_at")},
        {"started:", FormatTimeField(e, job, "started_at")},
        {"finished:", FormatTimeField(e, job, "finished_at")},
    };
    if (auto start = Time(job, "started_at")) {
      UnixMillis end = Time(job, "finished_at").value_or(e.clock->NowMillis());
      rows.push_back({"runtime:", FormatDuration(end - *start)});
    }
    if (double max_runtime = job.value("max_runtime_s", 0.0); max_runtime > 0) {
      rows.push_back({"max runtime:", FormatDuration(static_cast<int64_t>(max_runtime * 1000))});
    }
    rows.push_back({"working dir:", Str(job, "working_dir", "-")});
    rows.push_back({"result dir:", Str(job, "result_dir", "-")});
    rows.push_back({"log dir:", Str(job, "log_dir", "-")});
    if (job.contains("env") && job["env"].is_object()) {
      for (const auto& [k, v] : job["env"].items()) rows.push_back({"env:", k + "=" + (v.is_string() ? v.get<std::string>() : v.dump())});
    }
    if (job.contains("hparams") && job["hparams"].is_object() && !job["hparams"].empty()) {
      rows.push_back({"hparams:", job["hparams"].dump()});
    }
    std::string table = RenderTable({}, rows);
    // RenderTable always emits the (here empty) header line first.
    *e.out << table.substr(table.find('\n') + 1);
  });
}

// ---- logs ------------------------------------------------------------------------------------

struct LogsFlags {
  IdFlags id;
  bool follow = false;
  int tail = -1;
};

void AddLogs(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<LogsFlags>();
  auto id = std::shared_ptr<IdFlags>(flags, &flags->id);
  CLI::App* cmd = AddIdCommand(app, "logs", "Print a job's output (stdout and stderr)", id, /*with_json=*/false);
  cmd->add_flag("-f,--follow", flags->follow, "keep printing new output until the job ends");
  cmd->add_option("--tail", flags->tail, "only the last N lines")->check(CLI::Range(0, 1000000));
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, flags->id.connection);
    Query query;
    if (flags->tail >= 0) query.emplace_back("tail", std::to_string(flags->tail));
    if (flags->follow) query.emplace_back("follow", "true");
    Status s = client.Stream(JobPath(flags->id.id, "/logs"), query, [&](std::string_view chunk) {
      e.out->write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      e.out->flush();  // print as it arrives
      return true;
    });
    if (!s.ok()) Fail(e, s);
  });
}

// ---- kill, rm --------------------------------------------------------------------------------

struct KillFlags {
  IdFlags id;
  int grace_s = -1;
};

void AddKill(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<KillFlags>();
  auto id = std::shared_ptr<IdFlags>(flags, &flags->id);
  CLI::App* cmd = AddIdCommand(app, "kill", "Stop a job (SIGTERM, then SIGKILL after the grace period)", id);
  cmd->add_option("--grace", flags->grace_s, "seconds between SIGTERM and SIGKILL (server default 10)")
      ->check(CLI::Range(0, 3600));
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, flags->id.connection);
    Query query;
    if (flags->grace_s >= 0) query.emplace_back("grace_s", std::to_string(flags->grace_s));
    json job = Unwrap(e, client.Post(JobPath(flags->id.id, "/kill"), json::object(), query));
    if (flags->id.connection.json) {
      PrintJson(e, job);
      return;
    }
    std::string state = Str(job, "state");
    if (IsTerminalState(state)) {
      *e.out << "job " << flags->id.id << " " << state << "\n";
    } else {
      *e.out << "job " << flags->id.id << " is being stopped (" << state << ")\n";
    }
  });
}

void AddRm(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<IdFlags>();
  CLI::App* cmd = AddIdCommand(app, "rm", "Delete a finished job with its logs, metrics and files", flags);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, flags->connection);
    json answer = Unwrap(e, client.Delete(JobPath(flags->id)));
    if (flags->connection.json) {
      PrintJson(e, answer.is_null() ? json{{"deleted", flags->id}} : answer);
      return;
    }
    *e.out << "removed job " << flags->id << "\n";
  });
}

// ---- result ----------------------------------------------------------------------------------

struct ResultFlags {
  IdFlags id;
  std::string out_dir;
  std::string format = "tar.gz";
  bool keep_archive = false;
};

void AddResult(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<ResultFlags>();
  auto id = std::shared_ptr<IdFlags>(flags, &flags->id);
  CLI::App* cmd = AddIdCommand(app, "result", "Download a job's result directory", id, /*with_json=*/false);
  cmd->add_option("-o,--output", flags->out_dir, "directory to unpack into (must not exist or be empty)")->required();
  cmd->add_option("--format", flags->format, "archive format on the wire: tar.gz or zip");
  cmd->add_flag("--archive", flags->keep_archive, "save the archive as DIR/job-ID-result.<format> instead of unpacking");
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    std::string format = Unwrap(e, NormalizeResultFormat(flags->format), kExitUsage);
    ApiClient client = Connect(e, flags->id.connection);
    Query query;
    if (format == "zip") query.emplace_back("format", "zip");
    std::string path = JobPath(flags->id.id, "/result");
    if (flags->keep_archive) {
      std::error_code ec;
      std::filesystem::create_directories(flags->out_dir, ec);
      std::string file = flags->out_dir + "/job-" + std::to_string(flags->id.id) + "-result." + format;
      Status s = client.Download(path, query, file);
      if (!s.ok()) {
        std::filesystem::remove(file, ec);
        Fail(e, s);
      }
      *e.out << file << "\n";
      return;
    }
    ScopedTempFile tmp;
    if (Status s = tmp.Create("." + format); !s.ok()) Fail(e, s);
    if (Status s = client.Download(path, query, tmp.path()); !s.ok()) Fail(e, s);
    if (Status s = ExtractResultArchive(tmp.path(), flags->out_dir); !s.ok()) {
      Fail(e, Status(s.code(), "cannot unpack the result into " + flags->out_dir + ": " + s.message()));
    }
    *e.out << flags->out_dir << "\n";
  });
}

// ---- metrics ---------------------------------------------------------------------------------

struct MetricsFlags {
  IdFlags id;
  std::string name;
  int points = 0;
};

std::string FormatNumber(const json& v) {
  if (!v.is_number()) return v.dump();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  std::ostringstream s;
  s.precision(6);
  s << v.get<double>();
  return s.str();
}

void AddMetrics(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<MetricsFlags>();
  auto id = std::shared_ptr<IdFlags>(flags, &flags->id);
  CLI::App* cmd = AddIdCommand(app, "metrics", "Show a job's metrics: last values, or the points of one", id);
  cmd->add_option("--name", flags->name, "print the points of these series (comma list)");
  cmd->add_option("--points", flags->points, "at most N points per series, 2..100000 (server downsamples)")
      ->check(CLI::Range(2, 100000));
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, flags->id.connection);
    Query query;
    if (!flags->name.empty()) query.emplace_back("name", flags->name);
    if (flags->points > 0) query.emplace_back("points", std::to_string(flags->points));
    json answer = Unwrap(e, client.Get(JobPath(flags->id.id, "/metrics"), query));
    if (flags->id.connection.json) {
      PrintJson(e, answer);
      return;
    }
    json series = answer.value("series", json::array());
    if (flags->name.empty()) {
      // Downsampling keeps each bucket's min and max, so MIN and MAX are exact; LAST is the last point sent.
      std::vector<std::vector<std::string>> rows;
      for (const json& s : series) {
        const json points = s.value("points", json::array());
        std::string last_step = "-", last = "-", min = "-", max = "-";
        if (!points.empty() && points.back().is_array() && points.back().size() == 2) {
          last_step = FormatNumber(points.back()[0]);
          last = FormatNumber(points.back()[1]);
          double lo = INFINITY, hi = -INFINITY;
          for (const json& p : points) {
            if (!p.is_array() || p.size() != 2 || !p[1].is_number()) continue;
            lo = std::min(lo, p[1].get<double>());
            hi = std::max(hi, p[1].get<double>());
          }
          min = FormatNumber(json(lo));
          max = FormatNumber(json(hi));
        }
        rows.push_back({Str(s, "name"), std::to_string(Int(s, "count")), last_step, last, min, max});
      }
      *e.out << RenderTable({"NAME", "COUNT", "STEP", "LAST", "MIN", "MAX"}, rows);
      return;
    }
    bool first = true;
    for (const json& s : series) {
      if (!first) *e.out << "\n";
      first = false;
      if (series.size() > 1) *e.out << Str(s, "name") << " (" << Int(s, "count") << " points)\n";
      std::vector<std::vector<std::string>> rows;
      for (const json& p : s.value("points", json::array())) {
        if (p.is_array() && p.size() == 2) rows.push_back({FormatNumber(p[0]), FormatNumber(p[1])});
      }
      *e.out << RenderTable({"STEP", Str(s, "name")}, rows);
    }
  });
}

}  // namespace

void RegisterJobCommands(CLI::App& app, std::shared_ptr<const ClientEnvironment> env) {
  AddSubmit(app, env);
  AddLs(app, env);
  AddShow(app, env);
  AddLogs(app, env);
  AddKill(app, env);
  AddRm(app, env);
  AddResult(app, env);
  AddMetrics(app, env);
}

}  // namespace stoke::cli::internal
