#include "cli/client_commands.h"

#include <unistd.h>

#include <iostream>
#include <string_view>

#include "common/byte_size.h"
#include "cli/command_support.h"
#include "cli/table.h"

namespace stoke::cli {

ClientEnvironment ClientEnvironment::FromProcess() {
  ClientEnvironment env;
  env.out = &std::cout;
  env.err = &std::cerr;
  env.env = ProcessEnv();
  env.config_path = DefaultConfigPath(env.env);
  env.out_is_tty = ::isatty(STDOUT_FILENO) == 1;
  env.err_is_tty = ::isatty(STDERR_FILENO) == 1;
  env.clock = std::make_shared<SystemClock>();
  return env;
}

void RegisterClientCommands(CLI::App& app) {
  RegisterClientCommands(app, std::make_shared<const ClientEnvironment>(ClientEnvironment::FromProcess()));
}

void RegisterClientCommands(CLI::App& app, std::shared_ptr<const ClientEnvironment> environment) {
  internal::RegisterJobCommands(app, environment);
  internal::RegisterTrainCommands(app, environment);
  internal::RegisterClusterCommands(app, environment);
  internal::RegisterHpoCommands(app, environment);
}

int RunCli(CLI::App& app, int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e, out, err);  // --help
    err << "error: " << e.what() << "\n";
    bool in_submit = false;
    for (int i = 1; i < argc; ++i) in_submit = in_submit || std::string_view(argv[i]) == "submit";
    if (in_submit && dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
      err << "(put the job's command after --: stoke submit [flags] -- CMD ARGS...)\n";
    } else {
      err << "(run with --help for usage)\n";
    }
    return kExitUsage;
  }
  return kExitOk;
}

int RunCli(CLI::App& app, int argc, const char* const* argv) {
  return RunCli(app, argc, argv, std::cout, std::cerr);
}

namespace internal {

void AddConnectionFlags(CLI::App& command, ConnectionFlags& flags, bool with_json) {
  command.add_option("--url", flags.url, "Stoke server URL (default: $STOKE_URL, the config file, " +
                                             std::string(kDefaultServerUrl) + ")");
  command.add_option("--token", flags.token, "API token (default: $STOKE_TOKEN, the config file)");
  command.add_option("--token-file", flags.token_file, "read the API token from this file");
  if (with_json) command.add_flag("--json", flags.json, "print the server's JSON answer");
}

void Exit(int code) { throw CLI::RuntimeError(code); }

std::string DescribeError(const Status& status) {
  std::string line = status.message();
  if (!status.field().empty()) line += " (field " + status.field() + ")";
  return line;
}

void Fail(const ClientEnvironment& env, const Status& status, int exit_code) {
  *env.err << "error: " << DescribeError(status) << "\n";
  env.err->flush();
  Exit(exit_code == kExitOk ? kExitFailure : exit_code);
}

ApiClient Connect(const ClientEnvironment& env, const ConnectionFlags& flags) {
  ConfigInputs inputs{flags.url, flags.token, flags.token_file, env.env, env.config_path};
  ClientConfig config = Unwrap(env, ResolveClientConfig(inputs), kExitUsage);
  if (config.token.empty()) {
    Fail(env,
         Status::Unauthenticated("no API token: pass --token or --token-file, set STOKE_TOKEN, or run "
                                 "`stoke login --url URL --token TOKEN`"),
         kExitUsage);
  }
  return Unwrap(env, ApiClient::Create(std::move(config)), kExitUsage);
}

void PrintJson(const ClientEnvironment& env, const nlohmann::json& doc) { *env.out << doc.dump(2) << "\n"; }

std::string Str(const nlohmann::json& doc, const char* key, std::string fallback) {
  if (!doc.is_object() || !doc.contains(key)) return fallback;
  const nlohmann::json& v = doc[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return fallback;
  return v.dump();
}

int64_t Int(const nlohmann::json& doc, const char* key, int64_t fallback) {
  if (!doc.is_object() || !doc.contains(key) || !doc[key].is_number()) return fallback;
  return doc[key].get<int64_t>();
}

std::optional<UnixMillis> Time(const nlohmann::json& doc, const char* key) {
  if (!doc.is_object() || !doc.contains(key)) return std::nullopt;
  const nlohmann::json& v = doc[key];
  if (v.is_number_integer()) return v.get<int64_t>();  // tolerate epoch millis
  if (!v.is_string()) return std::nullopt;
  auto parsed = ParseRfc3339(v.get<std::string>());
  if (!parsed) return std::nullopt;
  return *parsed;
}

std::string FormatResources(const nlohmann::json& resources) {
  if (!resources.is_object()) return "-";
  std::string out;
  auto add = [&](std::string part) {
    if (!out.empty()) out += ' ';
    out += part;
  };
  if (int64_t gpus = Int(resources, "gpus"); gpus > 0) add(std::to_string(gpus) + "gpu");
  add(std::to_string(Int(resources, "cpus", 1)) + "cpu");
  if (resources.contains("memory")) {
    const nlohmann::json& m = resources["memory"];
    if (m.is_number() && m.get<int64_t>() > 0) add(FormatByteSize(m.get<int64_t>()));
    if (m.is_string() && !m.get<std::string>().empty()) add(m.get<std::string>());
  }
  return out;
}

std::string FormatExit(const nlohmann::json& job) {
  if (!job.is_object() || !job.contains("exit_code") || !job["exit_code"].is_number()) return "-";
  return std::to_string(job["exit_code"].get<int64_t>());
}

std::string Age(const ClientEnvironment& env, const nlohmann::json& doc, const char* key) {
  std::optional<UnixMillis> t = Time(doc, key);
  if (!t) return "-";
  return FormatAge(*t, env.clock->NowMillis());
}

std::string JoinArgv(const nlohmann::json& argv) {
  if (!argv.is_array()) return "";
  std::string out;
  for (const nlohmann::json& a : argv) {
    std::string s = a.is_string() ? a.get<std::string>() : a.dump();
    bool plain = !s.empty() && s.find_first_not_of(
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./=:,+@%") ==
                                   std::string::npos;
    if (!out.empty()) out += ' ';
    if (plain) {
      out += s;
    } else {
      out += '\'';
      for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

}  // namespace internal
}  // namespace stoke::cli
