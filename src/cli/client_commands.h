#pragma once

#include <chrono>
#include <iosfwd>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/client_config.h"
#include "common/clock.h"

namespace stoke::cli {

// What the client commands read from and write to. FromProcess() is the real process (stdout,
// stderr, getenv, ~/.config/stoke/config.json, the system clock); tests build their own.
// Used by one command at a time; not thread-safe.
struct ClientEnvironment {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  EnvLookup env;
  std::string config_path;  // empty = DefaultConfigPath(env)
  bool out_is_tty = false;  // `top --watch` clears the screen only on a terminal
  bool err_is_tty = false;  // `submit --wait` redraws one progress line only on a terminal
  std::shared_ptr<const Clock> clock;
  std::chrono::milliseconds poll_interval{1000};  // `submit --wait` status polling
  std::chrono::milliseconds watch_interval{2000};  // `top --watch` refresh
  int watch_iterations = 0;                        // `top --watch` rounds; 0 = until interrupted

  static ClientEnvironment FromProcess();
};

// Adds the client subcommands to `app`: submit, ls, show, logs, kill, rm, result, metrics, top,
// token {create,ls,revoke}, login, whoami. Each command ends by throwing CLI::RuntimeError(exit code)
// when that code is not 0, the CLI11 way to leave a callback; RunCli (or CLI11_PARSE) turns it into
// the process exit code.
void RegisterClientCommands(CLI::App& app);
void RegisterClientCommands(CLI::App& app, std::shared_ptr<const ClientEnvironment> environment);

// Parses argv and runs the chosen command. Returns the exit code: 0 success (and --help),
// 2 bad usage (CLI11 parse errors are printed as "error: ..."), 1 other failures, or the code a
// command chose (submit --wait passes on the job's exit code).
// Help goes to `out`, parse errors to `err` (std::cout and std::cerr in the 3-argument form).
int RunCli(CLI::App& app, int argc, const char* const* argv, std::ostream& out, std::ostream& err);
int RunCli(CLI::App& app, int argc, const char* const* argv);

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitKilled = 130;  // submit --wait on a KILLED job (as for SIGINT)

}  // namespace stoke::cli
