#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "launch/launcher.h"

// What LocalLauncher hands to its supervisor over the private socket (not argv, so the job's
// environment — tokens included — never shows in `ps`). Free functions; thread-safe.
namespace stoke::launch {

struct SupervisorSpec {
  LaunchSpec launch;
  std::string cgroup_root;  // a writable cgroup v2 directory for the job's cgroup; "" = none
};

// Encoding: a sequence of NUL-terminated key and value strings. No field may contain a NUL.
std::string EncodeSupervisorSpec(const SupervisorSpec& spec);
Result<SupervisorSpec> DecodeSupervisorSpec(std::string_view bytes);

}  // namespace stoke::launch
