#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace stoke::apps {

// Settings of `stoke server`; flags override the YAML config file, which overrides defaults.
struct ServerSettings {
  std::string config_file;
  std::string bind = "127.0.0.1";
  int port = 8080;
  std::string data_dir = "./stoke-data";
  int cpu_slots = 0;             // 0 = one per core
  std::string gpus = "auto";     // auto | none | 0,1,...
  std::string tls_cert;
  std::string tls_key;
  int kill_grace_s = 10;
  std::string web_root;          // UI assets; default: <exe dir>/../share/stoke/web or the build's web/dist
  std::string cgroup_root;       // "" = auto-detect, "none" = off
};

void RegisterServerCommand(CLI::App& app, ServerSettings& settings, int& exit_code);

}  // namespace stoke::apps
