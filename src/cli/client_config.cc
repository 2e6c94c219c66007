#include "cli/client_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace stoke::cli {
namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::optional<std::string> NonEmpty(const EnvLookup& env, const std::string& name) {
  if (!env) return std::nullopt;
  std::optional<std::string> v = env(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<std::string> NormalizeServerUrl(std::string_view url) {
  std::string u = Trim(url);
  if (!u.starts_with("http://") && !u.starts_with("https://")) {
    return Err(Status::InvalidArgument("server URL \"" + u + "\" must start with http:// or https://", "url"));
  }
  while (u.ends_with("/") && !u.ends_with("://")) u.pop_back();
  if (u.ends_with("/api/v1")) u.resize(u.size() - 7);
  while (u.ends_with("/") && !u.ends_with("://")) u.pop_back();
  size_t host_start = u.find("://") + 3;
  if (host_start >= u.size() || u[host_start] == '/' || u[host_start] == ':') {
    return Err(Status::InvalidArgument("server URL \"" + u + "\" has no host", "url"));
  }
  return u;
}

std::string DefaultConfigPath(const EnvLookup& env) {
  if (auto xdg = NonEmpty(env, "XDG_CONFIG_HOME")) return *xdg + "/stoke/config.json";
  std::string home = NonEmpty(env, "HOME").value_or(".");
  return home + "/.config/stoke/config.json";
}

Result<std::optional<ClientConfig>> LoadConfigFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<ClientConfig>();
  std::ifstream in(path);
  if (!in) return Err(Status::PermissionDenied("cannot read the config file " + path));
  std::stringstream buf;
  buf << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(buf.str(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return Err(Status::InvalidArgument("config file " + path + " is not a JSON object"));
  ClientConfig config;
  config.url = "";
  if (doc.contains("url")) {
    if (!doc["url"].is_string()) return Err(Status::InvalidArgument("config file " + path + ": url must be a string", "url"));
    config.url = doc["url"].get<std::string>();
  }
  if (doc.contains("token")) {
    if (!doc["token"].is_string()) {
      return Err(Status::InvalidArgument("config file " + path + ": token must be a string", "token"));
    }
    config.token = doc["token"].get<std::string>();
  }
  if (doc.contains("ca_cert")) {
    if (!doc["ca_cert"].is_string()) {
      return Err(Status::InvalidArgument("config file " + path + ": ca_cert must be a string", "ca_cert"));
    }
    config.ca_cert = doc["ca_cert"].get<std::string>();
  }
  return std::optional<ClientConfig>(std::move(config));
}

Status SaveConfigFile(const std::string& path, const ClientConfig& config) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::path(path).parent_path();
  if (!dir.empty() && !fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return Status::PermissionDenied("cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  nlohmann::json doc = {{"url", config.url}, {"token", config.token}};
  if (!config.ca_cert.empty()) doc["ca_cert"] = config.ca_cert;
  std::string text = doc.dump(2) + "\n";
  std::string tmp = path + ".tmp";
  // Created 0600 from the start (and forced so over a stale tmp file): the token is never readable by others.
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::PermissionDenied("cannot write " + tmp + ": " + std::strerror(errno));
  bool written = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  written = ::fsync(fd) == 0 && written;
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return Status::Internal("cannot write " + tmp);
  }
  fs::rename(tmp, path, ec);
  if (ec) return Status::Internal("cannot replace " + path + ": " + ec.message());
  return Status::Ok();
}

Result<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Err(Status::InvalidArgument("cannot read the token file " + path, "token-file"));
  std::string line;
  std::getline(in, line);
  std::string token = Trim(line);
  if (token.empty()) return Err(Status::InvalidArgument("the token file " + path + " is empty", "token-file"));
  return token;
}

Result<ClientConfig> ResolveClientConfig(const ConfigInputs& inputs) {
  std::optional<ClientConfig> file;
  if (!inputs.config_path.empty()) {
    STOKE_ASSIGN_OR_RETURN(file, LoadConfigFile(inputs.config_path));
  }
  ClientConfig config;
  std::string url;
  if (!inputs.flag_url.empty()) {
    url = inputs.flag_url;
  } else if (auto env_url = NonEmpty(inputs.env, "STOKE_URL")) {
    url = *env_url;
  } else if (file && !file->url.empty()) {
    url = file->url;
  } else {
    url = kDefaultServerUrl;
  }
  STOKE_ASSIGN_OR_RETURN(config.url, NormalizeServerUrl(url));

  if (!inputs.flag_token.empty()) {
    config.token = Trim(inputs.flag_token);
  } else if (!inputs.flag_token_file.empty()) {
    STOKE_ASSIGN_OR_RETURN(config.token, ReadTokenFile(inputs.flag_token_file));
  } else if (auto env_token = NonEmpty(inputs.env, "STOKE_TOKEN")) {
    config.token = Trim(*env_token);
  } else if (file) {
    config.token = file->token;
  }

  if (auto env_ca = NonEmpty(inputs.env, "STOKE_CA_CERT")) {
    config.ca_cert = *env_ca;
  } else if (file) {
    config.ca_cert = file->ca_cert;
  }
  return config;
}

}  // namespace stoke::cli
