#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/status.h"

namespace stoke::cli {

inline constexpr const char* kDefaultServerUrl = "http://127.0.0.1:8080";

// Where the CLI talks to and who it is.
struct ClientConfig {
  std::string url = kDefaultServerUrl;  // scheme://host[:port][/prefix], no /api/v1
  std::string token = {};               // empty = none configured
  std::string ca_cert = {};             // PEM file of CAs to trust for https (empty = system CAs)
  bool operator==(const ClientConfig&) const = default;
};

// Reads an environment variable; nullopt when unset. Injected so tests do not touch the process env.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// Everything the resolution looks at. Empty strings mean "not given".
struct ConfigInputs {
  std::string flag_url = {};
  std::string flag_token = {};
  std::string flag_token_file = {};  // path of a file holding the token (first line, trimmed)
  EnvLookup env = {};                // STOKE_URL, STOKE_TOKEN
  std::string config_path = {};      // the file `stoke login` writes; missing file = no values
};

// Resolves url and token, each on its own: flags > environment > config file > default.
// For the token, --token beats --token-file. A trailing "/" or "/api/v1" on the URL is dropped.
// ca_cert comes from STOKE_CA_CERT, else the config file.
Result<ClientConfig> ResolveClientConfig(const ConfigInputs& inputs);

// $XDG_CONFIG_HOME/stoke/config.json, else $HOME/.config/stoke/config.json.
std::string DefaultConfigPath(const EnvLookup& env);

// Reads {"url": ..., "token": ..., "ca_cert": ...} (each optional); nullopt when the file does not exist.
Result<std::optional<ClientConfig>> LoadConfigFile(const std::string& path);

// Writes the file with mode 0600 (its directory 0700 when created), replacing it atomically.
Status SaveConfigFile(const std::string& path, const ClientConfig& config);

// Reads a token file: the first line, surrounding whitespace removed; empty files are an error.
Result<std::string> ReadTokenFile(const std::string& path);

// Normalizes and checks a server URL: http(s)://host[:port][/prefix]; drops a trailing "/" and "/api/v1".
Result<std::string> NormalizeServerUrl(std::string_view url);

}  // namespace stoke::cli
