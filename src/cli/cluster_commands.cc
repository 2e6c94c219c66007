// The cluster and account commands: top, token {create,ls,revoke}, login, whoami.
#include <thread>

#include "cli/api_client.h"
#include "common/byte_size.h"
#include "cli/command_support.h"
#include "cli/table.h"

namespace stoke::cli::internal {
namespace {

using nlohmann::json;
using EnvPtr = std::shared_ptr<const ClientEnvironment>;

// ---- top -------------------------------------------------------------------------------------

struct TopFlags {
  ConnectionFlags connection;
  bool watch = false;
};

std::string Runtime(const ClientEnvironment& e, const json& job) {
  std::optional<UnixMillis> started = Time(job, "started_at");
  if (!started) return "-";
  return FormatDuration(e.clock->NowMillis() - *started);
}

// Renders the cluster answer as the `top` screen.
std::string RenderCluster(const ClientEnvironment& e, const json& cluster) {
  std::string out;
  json cpus = cluster.value("cpus", json::object());
  json gpus = cluster.value("gpus", json::array());
  int64_t gpus_used = 0;
  for (const json& g : gpus) gpus_used += g.contains("job") && !g["job"].is_null() ? 1 : 0;
  out += "CPU " + std::to_string(Int(cpus, "used")) + "/" + std::to_string(Int(cpus, "total")) + " used   GPU " +
         std::to_string(gpus_used) + "/" + std::to_string(gpus.size()) + " used";
  json memory = cluster.value("memory", json::object());
  if (Int(memory, "total") > 0) {
    out += "   MEM " + FormatByteSize(Int(memory, "used")) + "/" + FormatByteSize(Int(memory, "total")) + " reserved";
  }
  json running = cluster.value("running", json::array());
  json queue = cluster.value("queue", json::array());
  out += "   " + std::to_string(running.size()) + " running, " + std::to_string(queue.size()) + " queued\n";

  if (!gpus.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const json& g : gpus) {
      std::string job = g.contains("job") && !g["job"].is_null() ? g["job"].dump() : "-";
      rows.push_back({std::to_string(Int(g, "index")), Str(g, "name"),
                      Int(g, "memory") > 0 ? FormatByteSize(Int(g, "memory")) : "-", job});
    }
    out += "\n" + RenderTable({"GPU", "NAME", "MEMORY", "JOB"}, rows);
  }
  std::vector<std::vector<std::string>> run_rows;
  for (const json& job : running) {
    run_rows.push_back({std::to_string(Int(job, "id")), Str(job, "name"), Str(job, "user"), Str(job, "state"),
                        FormatResources(job.value("resources", json::object())), Runtime(e, job)});
  }
  out += "\nRUNNING\n" + RenderTable({"ID", "NAME", "USER", "STATE", "RESOURCES", "RUNTIME"}, run_rows);
  std::vector<std::vector<std::string>> queue_rows;
  for (const json& job : queue) {
    queue_rows.push_back({std::to_string(Int(job, "id")), Str(job, "name"), Str(job, "user"),
                          std::to_string(Int(job, "priority")), FormatResources(job.value("resources", json::object())),
                          Age(e, job, "created_at"), Str(job, "reason")});
  }
  out += "\nQUEUE\n" + RenderTable({"ID", "NAME", "USER", "PRIORITY", "RESOURCES", "WAITING", "REASON"}, queue_rows);
  return out;
}

void AddTop(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<TopFlags>();
  CLI::App* cmd = app.add_subcommand("top", "Show the pool: slots used, who runs what, the queue");
  cmd->add_flag("-w,--watch", flags->watch, "refresh every 2 s until interrupted");
  AddConnectionFlags(*cmd, flags->connection);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, flags->connection);
    for (int round = 1;; ++round) {
      json cluster = Unwrap(e, client.Get("/cluster"));
      if (flags->watch && e.out_is_tty) *e.out << "\033[H\033[2J";  // home + clear screen
      if (flags->connection.json) {
        PrintJson(e, cluster);
      } else {
        *e.out << RenderCluster(e, cluster);
      }
      e.out->flush();
      if (!flags->watch || (e.watch_iterations > 0 && round >= e.watch_iterations)) return;
      if (!e.out_is_tty) *e.out << "\n";
      std::this_thread::sleep_for(e.watch_interval);
    }
  });
}

// ---- token -----------------------------------------------------------------------------------

struct TokenCreateFlags {
  ConnectionFlags connection;
  std::string user;
  bool admin = false;
};

struct TokenRevokeFlags {
  ConnectionFlags connection;
  int64_t id = 0;
};

void AddToken(CLI::App& app, EnvPtr env) {
  CLI::App* token = app.add_subcommand("token", "Manage API tokens (admin)");
  token->require_subcommand(1);

  auto create = std::make_shared<TokenCreateFlags>();
  CLI::App* create_cmd = token->add_subcommand("create", "Create a token; its text is shown only once");
  create_cmd->add_option("--user", create->user, "the user the token acts as")->required();
  create_cmd->add_flag("--admin", create->admin, "the token is an admin token");
  AddConnectionFlags(*create_cmd, create->connection);
  create_cmd->callback([create, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, create->connection);
    json answer = Unwrap(e, client.Post("/tokens", json{{"user", create->user}, {"admin", create->admin}}));
    if (create->connection.json) {
      PrintJson(e, answer);
      return;
    }
    *e.out << Str(answer, "token") << "\n";
    *e.err << "token " << Int(answer, "id") << " for " << Str(answer, "user") << (create->admin ? " (admin)" : "")
           << "; it is shown only now\n";
  });

  auto list = std::make_shared<ConnectionFlags>();
  CLI::App* list_cmd = token->add_subcommand("ls", "List tokens");
  AddConnectionFlags(*list_cmd, *list);
  list_cmd->callback([list, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, *list);
    json answer = Unwrap(e, client.Get("/tokens"));
    if (list->json) {
      PrintJson(e, answer);
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const json& t : answer.value("tokens", json::array())) {
      rows.push_back({std::to_string(Int(t, "id")), Str(t, "user"), t.value("admin", false) ? "yes" : "no",
                      Age(e, t, "created_at"), t.value("revoked", false) ? "yes" : "no"});
    }
    *e.out << RenderTable({"ID", "USER", "ADMIN", "CREATED", "REVOKED"}, rows);
  });

  auto revoke = std::make_shared<TokenRevokeFlags>();
  CLI::App* revoke_cmd = token->add_subcommand("revoke", "Revoke a token");
  revoke_cmd->add_option("id", revoke->id, "token id")->required();
  AddConnectionFlags(*revoke_cmd, revoke->connection);
  revoke_cmd->callback([revoke, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, revoke->connection);
    json answer = Unwrap(e, client.Delete("/tokens/" + std::to_string(revoke->id)));
    if (revoke->connection.json) {
      PrintJson(e, answer.is_null() ? json{{"revoked", revoke->id}} : answer);
      return;
    }
    *e.out << "revoked token " << revoke->id << "\n";
  });
}

// ---- login, whoami ---------------------------------------------------------------------------

struct LoginFlags {
  ConnectionFlags connection;
  bool no_verify = false;
};

void AddLogin(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<LoginFlags>();
  CLI::App* cmd = app.add_subcommand("login", "Save the server URL and token in the config file (mode 0600)");
  AddConnectionFlags(*cmd, flags->connection, /*with_json=*/false);
  cmd->add_flag("--no-verify", flags->no_verify, "save without asking the server who the token belongs to");
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ConfigInputs inputs{flags->connection.url, flags->connection.token, flags->connection.token_file, e.env,
                        e.config_path};
    ClientConfig config = Unwrap(e, ResolveClientConfig(inputs), kExitUsage);
    if (config.token.empty()) {
      Fail(e, Status::InvalidArgument("give the token with --token or --token-file", "token"), kExitUsage);
    }
    std::string who;
    if (!flags->no_verify) {
      ApiClient client = Unwrap(e, ApiClient::Create(config), kExitUsage);
      json me = Unwrap(e, client.Get("/whoami"));
      who = " as " + Str(me, "user") + (me.value("admin", false) ? " (admin)" : "");
    }
    if (Status s = SaveConfigFile(e.config_path, config); !s.ok()) Fail(e, s);
    *e.out << "logged in to " << config.url << who << "; saved in " << e.config_path << "\n";
  });
}

void AddWhoami(CLI::App& app, EnvPtr env) {
  auto flags = std::make_shared<ConnectionFlags>();
  CLI::App* cmd = app.add_subcommand("whoami", "Show the user the token acts as");
  AddConnectionFlags(*cmd, *flags);
  cmd->callback([flags, env] {
    const ClientEnvironment& e = *env;
    ApiClient client = Connect(e, *flags);
    json me = Unwrap(e, client.Get("/whoami"));
    if (flags->json) {
      PrintJson(e, me);
      return;
    }
    *e.out << Str(me, "user") << (me.value("admin", false) ? " (admin)" : "") << " at " << client.url() << "\n";
  });
}

}  // namespace

void RegisterClusterCommands(CLI::App& app, std::shared_ptr<const ClientEnvironment> env) {
  AddTop(app, env);
  AddToken(app, env);
  AddLogin(app, env);
  AddWhoami(app, env);
}

}  // namespace stoke::cli::internal
