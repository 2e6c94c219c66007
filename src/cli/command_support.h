#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "cli/client_commands.h"
#include "cli/submit_request.h"
#include "common/status.h"

// Helpers shared by the command files. Not part of the public interface of stoke_cli.
namespace stoke::cli::internal {

// The flags every client command takes to choose the server and the output form.
struct ConnectionFlags {
  std::string url;
  std::string token;
  std::string token_file;
  bool json = false;
};
void AddConnectionFlags(CLI::App& command, ConnectionFlags& flags, bool with_json = true);

// Ends the current command with `code` (CLI::RuntimeError, caught by RunCli / CLI11_PARSE).
[[noreturn]] void Exit(int code);

// Prints "error: <message> (field <field>)" to stderr and ends the command.
[[noreturn]] void Fail(const ClientEnvironment& env, const Status& status, int exit_code = kExitFailure);

// The error line for `status`, without "error: " and without a newline.
std::string DescribeError(const Status& status);

// Resolves the config (flags > env > file) into a client; fails the command when there is no token.
ApiClient Connect(const ClientEnvironment& env, const ConnectionFlags& flags);

// The value or Fail().
template <typename T>
T Unwrap(const ClientEnvironment& env, Result<T> result, int exit_code = kExitFailure) {
  if (!result) Fail(env, result.error(), exit_code);
  return std::move(*result);
}

void PrintJson(const ClientEnvironment& env, const nlohmann::json& doc);

// Lenient accessors for the server's JSON (missing or null fields give the fallback).
std::string Str(const nlohmann::json& doc, const char* key, std::string fallback = "");
int64_t Int(const nlohmann::json& doc, const char* key, int64_t fallback = 0);
std::optional<UnixMillis> Time(const nlohmann::json& doc, const char* key);

// "1gpu 2cpu 4G" from a resources object.
std::string FormatResources(const nlohmann::json& resources);
// "exit 3", "-" when the job has no exit code yet.
std::string FormatExit(const nlohmann::json& job);
// "3m ago" from an RFC 3339 field, "-" when absent.
std::string Age(const ClientEnvironment& env, const nlohmann::json& doc, const char* key);
// Shell-like rendering of argv for display ('quoted' when needed).
std::string JoinArgv(const nlohmann::json& argv);

// --gpus, --cpus, --mem, --priority, --env, --max-runtime and --wait; `per` qualifies the resource
// flags' help (" per worker" for elastic jobs).
void AddCommonJobFlags(CLI::App& cmd, SubmitOptions& options, const std::string& per);

// After a job was submitted: prints its id (or its JSON); with `wait`, follows it to its end
// with a progress line and ends the command with the job's exit code.
void ReportSubmitted(const ClientEnvironment& env, const ApiClient& client, const ConnectionFlags& connection,
                     const nlohmann::json& job, bool wait);
std::string JobPath(int64_t id, std::string_view tail = "");

void RegisterTrainCommands(CLI::App& app, std::shared_ptr<const ClientEnvironment> env);
void RegisterJobCommands(CLI::App& app, std::shared_ptr<const ClientEnvironment> env);
void RegisterClusterCommands(CLI::App& app, std::shared_ptr<const ClientEnvironment> env);
void RegisterHpoCommands(CLI::App& app, std::shared_ptr<const ClientEnvironment> env);

}  // namespace stoke::cli::internal
