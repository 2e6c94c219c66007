#pragma once

#include <memory>

#include <CLI/CLI.hpp>

#include "cli/client_commands.h"

namespace stoke::deploy {

// Adds the deployment commands to the `stoke` CLI:
//   stoke deploy MODEL|JOB --name N [--path model.pt] [--replicas MIN:MAX] [--gpus N] [--cpus N]
//                [--max-batch B] [--max-delay-ms D] [--input-shape 64] [--wait]
//   stoke predict NAME --input FILE|-     (FILE: a request body, or a bare JSON array of rows)
//   stoke deployments
//   stoke undeploy NAME
// Same connection flags, config and exit codes as the other client commands.
void RegisterDeployCommands(CLI::App& app);
void RegisterDeployCommands(CLI::App& app, std::shared_ptr<const cli::ClientEnvironment> env);

}  // namespace stoke::deploy
