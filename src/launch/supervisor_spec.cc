#include "launch/supervisor_spec.h"

#include <charconv>

namespace stoke::launch {
namespace {

void Put(std::string& out, std::string_view key, std::string_view value) {
  out.append(key);
  out.push_back('\0');
  out.append(value);
  out.push_back('\0');
}

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::string EncodeSupervisorSpec(const SupervisorSpec& spec) {
  const LaunchSpec& l = spec.launch;
  std::string out;
  Put(out, "job", std::to_string(l.job_id));
  for (const auto& arg : l.argv) Put(out, "arg", arg);
  for (const auto& [key, value] : l.env) Put(out, "env", key + "=" + value);
  Put(out, "cwd", l.working_dir);
  Put(out, "log", l.log_path);
  Put(out, "status", l.status_path);
  for (int core : l.cpu_cores) Put(out, "cpu", std::to_string(core));
  Put(out, "mem", std::to_string(l.memory_bytes));
  Put(out, "grace", std::to_string(l.grace_seconds));
  Put(out, "rlimit", l.rlimit_fallback ? "1" : "0");
  Put(out, "cgroup", spec.cgroup_root);
  return out;
}

Result<SupervisorSpec> DecodeSupervisorSpec(std::string_view bytes) {
  SupervisorSpec spec;
  LaunchSpec& l = spec.launch;
  auto next = [&](std::string_view& token) {
    size_t nul = bytes.find('\0');
    if (nul == std::string_view::npos) return false;
    token = bytes.substr(0, nul);
    bytes.remove_prefix(nul + 1);
    return true;
  };
  std::string_view key, value;
  while (!bytes.empty()) {
    if (!next(key) || !next(value)) return Err(Status::InvalidArgument("truncated supervisor spec"));
    bool ok = true;
    if (key == "job") {
      ok = ParseNumber(value, l.job_id);
    } else if (key == "arg") {
      l.argv.emplace_back(value);
    } else if (key == "env") {
      size_t eq = value.find('=');
      ok = eq != std::string_view::npos && eq > 0;
      if (ok) l.env[std::string(value.substr(0, eq))] = std::string(value.substr(eq + 1));
    } else if (key == "cwd") {
      l.working_dir = value;
    } else if (key == "log") {
      l.log_path = value;
    } else if (key == "status") {
      l.status_path = value;
    } else if (key == "cpu") {
      int core = 0;
      ok = ParseNumber(value, core);
      l.cpu_cores.push_back(core);
    } else if (key == "mem") {
      ok = ParseNumber(value, l.memory_bytes);
    } else if (key == "grace") {
      ok = ParseNumber(value, l.grace_seconds);
    } else if (key == "rlimit") {
      l.rlimit_fallback = value == "1";
    } else if (key == "cgroup") {
      spec.cgroup_root = value;
    } else {
      ok = false;
    }
    if (!ok) return Err(Status::InvalidArgument("bad supervisor spec field '" + std::string(key) + "'"));
  }
  if (l.argv.empty()) return Err(Status::InvalidArgument("supervisor spec has no command", "argv"));
  if (l.log_path.empty() || l.status_path.empty()) {
    return Err(Status::InvalidArgument("supervisor spec needs log and status paths"));
  }
  return spec;
}

}  // namespace stoke::launch
