#include "common/executables.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace stoke {

std::string FindStokeExecutable(const std::string& name, const std::string& env_var) {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv(env_var.c_str()); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  fs::path dir = exe.parent_path();
  for (const fs::path& candidate :
       {dir / name, dir / "../engine" / name, dir / "../serving" / name, dir / "../src/engine" / name,
        dir / "../src/serving" / name, dir / "../lib/stoke" / name, dir / "../libexec/stoke" / name}) {
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) {
      return fs::weakly_canonical(candidate, ec).string();
    }
  }
  return {};
}

}  // namespace stoke
