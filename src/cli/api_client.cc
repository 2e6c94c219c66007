#include "cli/api_client.h"

#include <cctype>
#include <fstream>
#include <memory>

#include <httplib.h>

#include "cli/api_error.h"

namespace stoke::cli {
namespace {

bool IsSuccess(int status) { return status >= 200 && status < 300; }

Result<nlohmann::json> DecodeJsonBody(const std::string& body) {
  if (body.empty()) return nlohmann::json();
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Err(Status::Internal("the server answered with a body that is not JSON"));
  return doc;
}

}  // namespace

std::string EncodeQueryComponent(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<ApiClient> ApiClient::Create(ClientConfig config, Timeouts timeouts) {
  STOKE_ASSIGN_OR_RETURN(config.url, NormalizeServerUrl(config.url));
  size_t host_start = config.url.find("://") + 3;
  size_t path_start = config.url.find('/', host_start);
  std::string origin = config.url.substr(0, path_start);
  std::string prefix = path_start == std::string::npos ? "" : config.url.substr(path_start);
  return ApiClient(std::move(config), timeouts, std::move(origin), std::move(prefix));
}

std::string ApiClient::Target(std::string_view path, const Query& query) const {
  std::string target = prefix_ + "/api/v1";
  if (!path.starts_with('/')) target += '/';
  target += path;
  char sep = '?';
  for (const auto& [key, value] : query) {
    target += sep;
    target += EncodeQueryComponent(key);
    target += '=';
    target += EncodeQueryComponent(value);
    sep = '&';
  }
  return target;
}

Status ApiClient::TransportError(int error) const {
  auto e = static_cast<httplib::Error>(error);
  std::string detail = httplib::to_string(e);
  switch (e) {
    case httplib::Error::Connection:
      detail = "connection refused or host unreachable";
      break;
    case httplib::Error::ConnectionTimeout:
      detail = "connection timed out";
      break;
    case httplib::Error::SSLServerVerification:
      detail = "the server's TLS certificate is not trusted (set STOKE_CA_CERT to its CA's PEM file)";
      break;
    case httplib::Error::Read:
      detail = "the connection broke or the server stayed silent too long while answering";
      break;
    default:
      break;
  }
  return Status::Unavailable("cannot reach the Stoke server at " + config_.url + ": " + detail);
}

namespace {

// One connection per call keeps ApiClient free of shared mutable state.
std::unique_ptr<httplib::Client> MakeHttpClient(const std::string& origin, const ClientConfig& config,
                                                const ApiClient::Timeouts& timeouts, bool streaming) {
  auto client = std::make_unique<httplib::Client>(origin);
  if (!config.ca_cert.empty()) client->set_ca_cert_path(config.ca_cert);
  const std::string& token = config.token;
  client->set_connection_timeout(timeouts.connect);
  client->set_read_timeout(streaming ? timeouts.stream_read : timeouts.read);
  client->set_write_timeout(timeouts.read);
  client->set_keep_alive(false);
  if (!token.empty()) client->set_bearer_token_auth(token);
  return client;
}

}  // namespace

Result<nlohmann::json> ApiClient::Get(std::string_view path, const Query& query) const {
  try {
    auto client = MakeHttpClient(origin_, config_, timeouts_, false);
    httplib::Result res = client->Get(Target(path, query), httplib::Headers{{"Accept", "application/json"}});
    if (!res) return Err(TransportError(static_cast<int>(res.error())));
    if (!IsSuccess(res->status)) return Err(DecodeErrorBody(res->status, res->body));
    return DecodeJsonBody(res->body);
  } catch (const std::exception& e) {
    return Err(Status::Internal(std::string("HTTP client failure: ") + e.what()));
  }
}

Result<nlohmann::json> ApiClient::Post(std::string_view path, const nlohmann::json& body, const Query& query) const {
  try {
    auto client = MakeHttpClient(origin_, config_, timeouts_, false);
    std::string text = body.is_null() ? "{}" : body.dump();
    httplib::Result res = client->Post(Target(path, query), httplib::Headers{{"Accept", "application/json"}}, text,
                                       "application/json");
    if (!res) return Err(TransportError(static_cast<int>(res.error())));
    if (!IsSuccess(res->status)) return Err(DecodeErrorBody(res->status, res->body));
    return DecodeJsonBody(res->body);
  } catch (const std::exception& e) {
    return Err(Status::Internal(std::string("HTTP client failure: ") + e.what()));
  }
}

Result<nlohmann::json> ApiClient::PostMultipart(std::string_view path, const std::vector<MultipartPart>& parts) const {
  try {
    auto client = MakeHttpClient(origin_, config_, timeouts_, false);
    httplib::MultipartFormDataItems items;
    items.reserve(parts.size());
    for (const MultipartPart& p : parts) items.push_back({p.name, p.content, p.filename, p.content_type});
    httplib::Result res = client->Post(Target(path, {}), httplib::Headers{{"Accept", "application/json"}}, items);
    if (!res) return Err(TransportError(static_cast<int>(res.error())));
    if (!IsSuccess(res->status)) return Err(DecodeErrorBody(res->status, res->body));
    return DecodeJsonBody(res->body);
  } catch (const std::exception& e) {
    return Err(Status::Internal(std::string("HTTP client failure: ") + e.what()));
  }
}

Result<nlohmann::json> ApiClient::Delete(std::string_view path) const {
  try {
    auto client = MakeHttpClient(origin_, config_, timeouts_, false);
    httplib::Result res = client->Delete(Target(path, {}), httplib::Headers{{"Accept", "application/json"}});
    if (!res) return Err(TransportError(static_cast<int>(res.error())));
    if (!IsSuccess(res->status)) return Err(DecodeErrorBody(res->status, res->body));
    return DecodeJsonBody(res->body);
  } catch (const std::exception& e) {
    return Err(Status::Internal(std::string("HTTP client failure: ") + e.what()));
  }
}

Status ApiClient::Stream(std::string_view path, const Query& query, const ChunkSink& sink) const {
  try {
    auto client = MakeHttpClient(origin_, config_, timeouts_, true);
    int status = 0;
    bool stopped_by_sink = false;
    std::string error_body;
    httplib::Result res = client->Get(
        Target(path, query), httplib::Headers{},
        [&](const httplib::Response& response) {
          status = response.status;
          return true;
        },
        [&](const char* data, size_t length) {
          if (!IsSuccess(status)) {
            error_body.append(data, length);
            return error_body.size() < (1 << 20);  // an error body is small; do not buffer a flood
          }
          if (!sink(std::string_view(data, length))) {
            stopped_by_sink = true;
            return false;
          }
          return true;
        });
    if (stopped_by_sink) return Status::Ok();
    if (status != 0 && !IsSuccess(status)) return DecodeErrorBody(status, error_body);
    if (!res) return TransportError(static_cast<int>(res.error()));
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("HTTP client failure: ") + e.what());
  }
}

Status ApiClient::Download(std::string_view path, const Query& query, const std::string& out_path) const {
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::PermissionDenied("cannot write " + out_path);
  Status s = Stream(path, query, [&](std::string_view chunk) {
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    return static_cast<bool>(out);
  });
  if (!s.ok()) return s;
  out.close();
  if (!out) return Status::Internal("cannot write " + out_path + " (disk full?)");
  return Status::Ok();
}

}  // namespace stoke::cli
