#include "deploy/deploy_commands.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>

#include "cli/command_support.h"
#include "cli/table.h"

namespace stoke::deploy {

namespace {

using cli::ClientEnvironment;
using cli::internal::AddConnectionFlags;
using cli::internal::ConnectionFlags;
using cli::internal::Connect;
using cli::internal::Fail;
using cli::internal::Int;
using cli::internal::PrintJson;
using cli::internal::Str;
using cli::internal::Unwrap;
using nlohmann::json;
using EnvPtr = std::shared_ptr<const ClientEnvironment>;
namespace fs = std::filesystem;

struct DeployFlags {
  ConnectionFlags connection;
  std::string model;
  std::string name;
  std::string path = "model.pt";
  std::string replicas;
  int gpus = -1, cpus = -1, max_batch = -1;
  double max_delay_ms = -1;
  std::string input_shape;
  bool wait = false;
  int wait_s = 300;
};

Result<json> BuildSpec(const DeployFlags& f, bool upload) {
  json spec = {{"name", f.name}};
  if (!upload) {
    int64_t job = 0;
    try {
      size_t used = 0;
      job = std::stoll(f.model, &used);
      if (used != f.model.size() || job <= 0) throw std::invalid_argument("id");
    } catch (const std::exception&) {
      return Err(Status::InvalidArgument("MODEL must be a TorchScript file or a job id: " + f.model, "MODEL"));
    }
    spec["model"] = {{"job", job}, {"path", f.path}};
  }
  if (!f.replicas.empty()) {
    size_t colon = f.replicas.find(':');
    try {
      if (colon == std::string::npos) {
        int n = std::stoi(f.replicas);
        spec["replicas"] = {{"min", n}, {"max", n}};
      } else {
        spec["replicas"] = {{"min", std::stoi(f.replicas.substr(0, colon))},
                            {"max", std::stoi(f.replicas.substr(colon + 1))}};
      }
    } catch (const std::exception&) {
      return Err(Status::InvalidArgument("--replicas takes N or MIN:MAX", "--replicas"));
    }
  }
  json resources = json::object();
  if (f.gpus >= 0) resources["gpus"] = f.gpus;
  if (f.cpus >= 1) resources["cpus"] = f.cpus;
  if (!resources.empty()) spec["resources"] = resources;
  json batching = json::object();
  if (f.max_batch > 0) batching["max_batch"] = f.max_batch;
  if (f.max_delay_ms >= 0) batching["max_delay_ms"] = f.max_delay_ms;
  if (!batching.empty()) spec["batching"] = batching;
  if (!f.input_shape.empty()) {
    json shape = json::array();
    std::stringstream in(f.input_shape);
    for (std::string part; std::getline(in, part, ',');) {
      try {
        shape.push_back(std::stoll(part));
      } catch (const std::exception&) {
        return Err(Status::InvalidArgument("--input-shape takes numbers separated by commas", "--input-shape"));
      }
    }
    spec["input_shape"] = shape;
  }
  return spec;
}

void PrintDeployment(const ClientEnvironment& e, const json& d) {
  *e.out << Str(d, "name") << "  version " << Int(d, "version") << "  " << Str(d, "state") << "  replicas "
         << Int(d["replicas"], "ready") << "/" << Int(d["replicas"], "desired") << " ready ("
         << Int(d["replicas"], "min") << ":" << Int(d["replicas"], "max") << ")\n"
         << "  predict: POST " << Str(d, "predict_url") << "\n";
}

void AddDeploy(CLI::App& app, EnvPtr env) {
  auto f = std::make_shared<DeployFlags>();
  CLI::App* cmd = app.add_subcommand("deploy", "Deploy a TorchScript model (a file, or a job's result) for scoring");
  cmd->add_option("MODEL", f->model, "TorchScript file to upload, or the id of a job whose result holds the model")
      ->required();
  cmd->add_option("--name", f->name, "Deployment name (a-z, 0-9, -)")->required();
  cmd->add_option("--path", f->path, "With a job id: the model's path in the job's result dir")->capture_default_str();
  cmd->add_option("--replicas", f->replicas, "N or MIN:MAX (autoscaled between them)");
  cmd->add_option("--gpus", f->gpus, "GPUs per replica");
  cmd->add_option("--cpus", f->cpus, "CPU slots per replica");
  cmd->add_option("--max-batch", f->max_batch, "Most rows per forward (and per request)");
  cmd->add_option("--max-delay-ms", f->max_delay_ms, "Longest a request waits for its batch to fill");
  cmd->add_option("--input-shape", f->input_shape, "Shape of one input row, e.g. 64 or 3,28,28");
  cmd->add_flag("--wait", f->wait, "Wait until a replica is ready");
  AddConnectionFlags(*cmd, f->connection);
  cmd->callback([f, env] {
    const ClientEnvironment& e = *env;
    std::error_code ec;
    bool upload = fs::is_regular_file(f->model, ec);
    json spec = Unwrap(e, BuildSpec(*f, upload), cli::kExitUsage);
    cli::ApiClient client = Connect(e, f->connection);
    json d;
    if (upload) {
      std::ifstream in(f->model, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      d = Unwrap(e, client.PostMultipart("/deployments", {{"spec", spec.dump(), "", "application/json"},
                                                          {"model", std::move(bytes),
                                                           fs::path(f->model).filename().string(),
                                                           "application/octet-stream"}}));
    } else {
      d = Unwrap(e, client.Post("/deployments", spec));
    }
    if (f->wait) {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(f->wait_s);
      while (Int(d["replicas"], "ready") == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          Fail(e, Status::DeadlineExceeded("no replica of " + f->name + " became ready in time"));
        }
        std::this_thread::sleep_for(e.poll_interval);
        d = Unwrap(e, client.Get("/deployments/" + f->name));
      }
    }
    if (f->connection.json) PrintJson(e, d);
    else PrintDeployment(e, d);
  });
}

void AddPredict(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<ConnectionFlags>();
  auto name = std::make_shared<std::string>();
  auto input = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("predict", "Score rows with a deployment");
  cmd->add_option("NAME", *name, "Deployment name")->required();
  cmd->add_option("--input", *input, "JSON file: {\"instances\": [...]}, WML {\"input_data\": ...}, or a bare array "
                                     "of rows; - reads stdin")
      ->required();
  AddConnectionFlags(*cmd, *flags, /*with_json=*/false);
  cmd->callback([flags, name, input, env] {
    const ClientEnvironment& e = *env;
    std::string text;
    if (*input == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::ifstream in(*input, std::ios::binary);
      if (!in) Fail(e, Status::InvalidArgument("cannot read " + *input, "--input"), cli::kExitUsage);
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    json body = json::parse(text, nullptr, false);
    if (body.is_discarded()) Fail(e, Status::InvalidArgument(*input + " is not JSON", "--input"), cli::kExitUsage);
    if (body.is_array()) body = {{"instances", body}};
    cli::ApiClient client = Connect(e, *flags);
    json out = Unwrap(e, client.Post("/deployments/" + *name + "/predict", body));
    PrintJson(e, out);
  });
}

void AddList(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<ConnectionFlags>();
  CLI::App* cmd = app.add_subcommand("deployments", "List deployments");
  AddConnectionFlags(*cmd, *flags);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    cli::ApiClient client = Connect(e, *flags);
    json out = Unwrap(e, client.Get("/deployments"));
    if (flags->json) {
      PrintJson(e, out);
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const json& d : out.value("deployments", json::array())) {
      const json& r = d["replicas"];
      json model = d.value("model", json::object());
      std::string source = model.contains("job") ? "job " + model["job"].dump() + ":" + Str(model, "path")
                                                 : Str(model, "path");
      rows.push_back({Str(d, "name"), std::to_string(Int(d, "version")), Str(d, "state"),
                      std::to_string(Int(r, "ready")) + "/" + std::to_string(Int(r, "desired")),
                      std::to_string(Int(r, "min")) + ":" + std::to_string(Int(r, "max")), source});
    }
    *e.out << cli::RenderTable({"NAME", "VERSION", "STATE", "READY", "REPLICAS", "MODEL"}, rows);
  });
}

void AddUndeploy(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<ConnectionFlags>();
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("undeploy", "Stop a deployment's replicas and delete it");
  cmd->add_option("NAME", *name, "Deployment name")->required();
  AddConnectionFlags(*cmd, *flags, /*with_json=*/false);
  cmd->callback([flags, name, env] {
    const ClientEnvironment& e = *env;
    cli::ApiClient client = Connect(e, *flags);
    Unwrap(e, client.Delete("/deployments/" + *name));
    *e.out << "deleted " << *name << "\n";
  });
}

}  // namespace

void RegisterDeployCommands(CLI::App& app, std::shared_ptr<const cli::ClientEnvironment> env) {
  AddDeploy(app, env);
  AddPredict(app, env);
  AddList(app, env);
  AddUndeploy(app, env);
}

void RegisterDeployCommands(CLI::App& app) {
  RegisterDeployCommands(app, std::make_shared<const cli::ClientEnvironment>(cli::ClientEnvironment::FromProcess()));
}

}  // namespace stoke::deploy
