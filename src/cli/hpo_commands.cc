// `stoke hpo ...`: hyperparameter-search experiments over the REST API (docs/api.md "Experiments").
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/code_archive.h"
#include "cli/command_support.h"
#include "cli/table.h"

namespace stoke::cli::internal {

namespace {

using nlohmann::json;
using EnvPtr = std::shared_ptr<const ClientEnvironment>;

std::string ExperimentPath(int64_t id) { return "/experiments/" + std::to_string(id); }

std::string FormatValue(const json& v) {
  if (!v.is_number()) return "-";
  std::ostringstream out;
  out.precision(6);
  out << v.get<double>();
  return out.str();
}

std::string FormatParams(const json& params) {
  std::string out;
  if (!params.is_object()) return out;
  for (const auto& [k, v] : params.items()) {
    std::string text = v.is_string() ? v.get<std::string>() : v.is_number_integer() ? v.dump() : FormatValue(v);
    out += (out.empty() ? "" : " ") + k + "=" + text;
  }
  return out;
}

// "RUNNING 45% trials 9/16: 4 running, 3 completed, 2 pruned, 0 failed; best accuracy=0.961 (trial 2)"
std::string ProgressLine(const json& e) {
  const json& t = e.value("trials", json::object());
  const json& budget = e.value("budget", json::object());
  std::string line = Str(e, "state") + " " + std::to_string(static_cast<int>(e.value("progress", 0.0) * 100)) +
                     "% trials " + std::to_string(Int(t, "total")) + "/" +
                     (budget.contains("max_trials") ? budget["max_trials"].dump() : std::string("?")) + ": " +
                     std::to_string(Int(t, "running")) + " running, " + std::to_string(Int(t, "completed")) +
                     " completed, " + std::to_string(Int(t, "pruned")) + " pruned, " +
                     std::to_string(Int(t, "failed")) + " failed";
  const json& best = e.value("best", json());
  if (best.is_object()) {
    line += "; best " + Str(e.value("objective", json::object()), "metric") + "=" + FormatValue(best["value"]) +
            " (trial " + std::to_string(Int(best, "trial")) + ")";
  }
  return line;
}

void PrintExperiment(const ClientEnvironment& e, const json& exp) {
  const json& objective = exp.value("objective", json::object());
  std::vector<std::vector<std::string>> rows = {
      {"id:", std::to_string(Int(exp, "id"))},
      {"name:", Str(exp, "name")},
      {"user:", Str(exp, "user")},
      {"state:", Str(exp, "state")},
      {"progress:", ProgressLine(exp)},
      {"objective:", Str(objective, "direction") + " " + Str(objective, "metric")},
      {"algorithm:", exp.value("algorithm", json()).dump()},
      {"budget:", exp.value("budget", json()).dump()},
      {"reason:", Str(exp, "reason", "-")},
      {"created:", Age(e, exp, "created_at")},
  };
  if (exp.value("best", json()).is_object()) {
    rows.push_back({"best params:", FormatParams(exp["best"]["params"])});
  }
  *e.out << RenderTable({}, rows);
}

struct CreateFlags {
  ConnectionFlags connection;
  std::string spec_file;
  std::string code_dir;
  bool wait = false;
};

json WaitForExperiment(const ClientEnvironment& e, const ApiClient& client, int64_t id) {
  std::string last;
  while (true) {
    json exp = Unwrap(e, client.Get(ExperimentPath(id)));
    std::string line = "experiment " + std::to_string(id) + " " + ProgressLine(exp);
    if (e.err_is_tty) {
      *e.err << "\r\033[K" << line << std::flush;
    } else if (line != last) {
      *e.err << line << "\n";
    }
    last = line;
    if (Str(exp, "state") != "RUNNING") {
      if (e.err_is_tty) *e.err << "\n";
      return exp;
    }
    std::this_thread::sleep_for(e.poll_interval);
  }
}

void AddCreate(CLI::App& hpo, EnvPtr env) {
  auto flags = std::make_shared<CreateFlags>();
  CLI::App* cmd = hpo.add_subcommand("create", "Create an experiment from a YAML or JSON spec");
  cmd->add_option("spec", flags->spec_file, "experiment spec file (.yaml, .yml or .json)")->required();
  cmd->add_option("--dir", flags->code_dir, "code directory uploaded for every trial (its working dir)");
  cmd->add_flag("--wait", flags->wait, "show progress until the experiment ends");
  AddConnectionFlags(*cmd, flags->connection);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    std::ifstream in(flags->spec_file, std::ios::binary);
    if (!in) Fail(e, Status::InvalidArgument("cannot read " + flags->spec_file, "spec"), kExitUsage);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bool json_spec = flags->spec_file.ends_with(".json");
    std::vector<MultipartPart> parts = {{"spec", text, std::filesystem::path(flags->spec_file).filename().string(),
                                         json_spec ? "application/json" : "application/yaml"}};
    if (!flags->code_dir.empty()) {
      parts.push_back({"code", Unwrap(e, PackCodeDirectory(flags->code_dir)), "code.tar.gz", "application/gzip"});
    }
    ApiClient client = Connect(e, flags->connection);
    json exp = Unwrap(e, client.PostMultipart("/experiments", parts));
    int64_t id = Int(exp, "id");
    if (flags->connection.json && !flags->wait) return PrintJson(e, exp);
    if (!flags->connection.json) *e.out << id << "\n" << std::flush;
    if (!flags->wait) return;
    json done = WaitForExperiment(e, client, id);
    if (flags->connection.json) {
      PrintJson(e, done);
    } else {
      PrintExperiment(e, done);
    }
    if (Str(done, "state") != "COMPLETED") Exit(kExitFailure);
  });
}

struct IdFlags {
  ConnectionFlags connection;
  int64_t id = 0;
  bool watch = false;  // show --watch
};

CLI::App* AddIdCommand(CLI::App& hpo, const std::string& name, const std::string& help,
                       std::shared_ptr<IdFlags> flags) {
  CLI::App* cmd = hpo.add_subcommand(name, help);
  cmd->add_option("id", flags->id, "experiment id")->required();
  AddConnectionFlags(*cmd, flags->connection);
  return cmd;
}

void AddLs(CLI::App& hpo, EnvPtr env) {
  auto flags = std::make_shared<ConnectionFlags>();
  CLI::App* cmd = hpo.add_subcommand("ls", "List experiments, newest first");
  AddConnectionFlags(*cmd, *flags);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, *flags);
    json page = Unwrap(e, client.Get("/experiments", {{"limit", "500"}}));
    if (flags->json) return PrintJson(e, page);
    std::vector<std::vector<std::string>> rows;
    for (const json& x : page.value("experiments", json::array())) {
      const json& t = x.value("trials", json::object());
      const json& best = x.value("best", json());
      rows.push_back({std::to_string(Int(x, "id")), Str(x, "name"), Str(x, "user"), Str(x, "state"),
                      std::to_string(static_cast<int>(x.value("progress", 0.0) * 100)) + "%",
                      std::to_string(Int(t, "total")), best.is_object() ? FormatValue(best["value"]) : "-",
                      Age(e, x, "created_at")});
    }
    *e.out << RenderTable({"ID", "NAME", "USER", "STATE", "PROGRESS", "TRIALS", "BEST", "AGE"}, rows);
  });
}

void AddShow(CLI::App& hpo, EnvPtr env) {
  auto flags = std::make_shared<IdFlags>();
  CLI::App* cmd = AddIdCommand(hpo, "show", "Show an experiment", flags);
  cmd->add_flag("--watch", flags->watch, "follow progress until the experiment ends");
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, flags->connection);
    json exp = flags->watch ? WaitForExperiment(e, client, flags->id) : Unwrap(e, client.Get(ExperimentPath(flags->id)));
    if (flags->connection.json) return PrintJson(e, exp);
    PrintExperiment(e, exp);
  });
}

void AddAction(CLI::App& hpo, EnvPtr env, const std::string& name, const std::string& help) {
  auto flags = std::make_shared<IdFlags>();
  CLI::App* cmd = AddIdCommand(hpo, name, help, flags);
  cmd->callback([flags, env, name] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, flags->connection);
    json exp = Unwrap(e, client.Post(ExperimentPath(flags->id) + "/" + name, json::object()));
    if (flags->connection.json) return PrintJson(e, exp);
    *e.out << "experiment " << flags->id << " " << Str(exp, "state") << "\n";
  });
}

std::vector<std::string> TrialRow(const json& t) {
  return {std::to_string(Int(t, "id")), t.value("job", json()).is_number() ? t["job"].dump() : "-", Str(t, "state"),
          FormatValue(t.value("value", json())), FormatValue(t.value("best_value", json())),
          t.value("last_step", json()).is_number() ? t["last_step"].dump() : "-", FormatParams(t.value("params", json()))};
}

void AddTrials(CLI::App& hpo, EnvPtr env) {
  auto flags = std::make_shared<IdFlags>();
  CLI::App* cmd = AddIdCommand(hpo, "trials", "List an experiment's trials", flags);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, flags->connection);
    json doc = Unwrap(e, client.Get(ExperimentPath(flags->id) + "/trials"));
    if (flags->connection.json) return PrintJson(e, doc);
    std::vector<std::vector<std::string>> rows;
    for (const json& t : doc.value("trials", json::array())) rows.push_back(TrialRow(t));
    *e.out << RenderTable({"TRIAL", "JOB", "STATE", "VALUE", "BEST", "STEP", "PARAMS"}, rows);
  });
}

void AddBest(CLI::App& hpo, EnvPtr env) {
  auto flags = std::make_shared<IdFlags>();
  CLI::App* cmd = AddIdCommand(hpo, "best", "Show the best trial", flags);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, flags->connection);
    json t = Unwrap(e, client.Get(ExperimentPath(flags->id) + "/best"));
    if (flags->connection.json) return PrintJson(e, t);
    *e.out << RenderTable({"TRIAL", "JOB", "STATE", "VALUE", "BEST", "STEP", "PARAMS"}, {TrialRow(t)});
  });
}

}  // namespace

void RegisterHpoCommands(CLI::App& app, std::shared_ptr<const ClientEnvironment> env) {
  CLI::App* hpo = app.add_subcommand("hpo", "Hyperparameter search: create, follow and inspect experiments");
  hpo->require_subcommand(1);
  AddCreate(*hpo, env);
  AddLs(*hpo, env);
  AddShow(*hpo, env);
  AddAction(*hpo, env, "stop", "Stop an experiment and its running trials");
  AddAction(*hpo, env, "resume", "Resume a stopped experiment");
  AddTrials(*hpo, env);
  AddBest(*hpo, env);
}

}  // namespace stoke::cli::internal
