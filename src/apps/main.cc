// The `stoke` binary: one executable for the server, the CLI and the job supervisor.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "apps/server_command.h"
#include "cli/client_commands.h"
#include "common/executables.h"
#include "deploy/deploy_commands.h"
#include "wmla/user_commands.h"
#include "launch/supervisor.h"

namespace {

// `stoke worker ...` runs the training worker, a separate binary so that the control plane and
// the CLI never load libtorch.
int ExecWorker(int argc, char** argv) {
  std::string exe = stoke::FindStokeExecutable("stoke-worker", "STOKE_WORKER_BIN");
  if (exe.empty()) {
    std::cerr << "error: stoke-worker not found next to stoke (was Stoke built with libtorch?)\n";
    return 1;
  }
  std::vector<char*> args;
  args.push_back(exe.data());
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(exe.c_str(), args.data());
  std::cerr << "error: cannot run " << exe << ": " << std::strerror(errno) << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "_supervise") {
    return stoke::launch::SupervisorMain(argc - 1, argv + 1);
  }
  if (argc > 1 && std::string_view(argv[1]) == "worker") return ExecWorker(argc, argv);

  CLI::App app{"Stoke: deep-learning training platform"};
  app.require_subcommand(1);
  int exit_code = 0;
  stoke::apps::ServerSettings server_settings;
  stoke::apps::RegisterServerCommand(app, server_settings, exit_code);
  stoke::cli::RegisterClientCommands(app);
  stoke::deploy::RegisterDeployCommands(app);
  stoke::wmla::RegisterUserCommands(app);
  app.add_subcommand("worker", "Run a training worker (elastic jobs start these)")->allow_extras();
  int rc = stoke::cli::RunCli(app, argc, argv);
  return rc != 0 ? rc : exit_code;
}
