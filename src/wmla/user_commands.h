#pragma once

#include <memory>

#include <CLI/CLI.hpp>

#include "cli/client_commands.h"

namespace stoke::wmla {

// Adds `stoke user create NAME [--admin] [--password-stdin]`, `stoke user passwd NAME [--password-stdin]`
// and `stoke user ls` (admin REST /api/v1/users). Without --password-stdin the password is asked twice
// on the terminal with echo off. The second form takes the environment tests use.
void RegisterUserCommands(CLI::App& app);
void RegisterUserCommands(CLI::App& app, std::shared_ptr<const cli::ClientEnvironment> env,
                          std::istream* password_input = nullptr);

}  // namespace stoke::wmla
