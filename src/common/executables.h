#pragma once

#include <string>

namespace stoke {

// Where a helper binary of Stoke's (stoke-worker, stoke-serve) lives: $<env_var> when set, else
// beside the running executable, else in the build tree's component folders or an install's
// lib/libexec folder. Empty when none is found (a build without libtorch has neither).
std::string FindStokeExecutable(const std::string& name, const std::string& env_var);

}  // namespace stoke
