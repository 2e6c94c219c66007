#include "elastic/http_kv_store.h"

#include <algorithm>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace stoke::elastic {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace kv_wire {

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::optional<std::string> HexDecode(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

}  // namespace kv_wire

namespace {

// A pooled connection idle longer than this is dropped rather than reused: the server closes
// kept-alive connections after 5 s of silence, and a request on a half-closed one would fail.
constexpr auto kMaxIdle = std::chrono::seconds(2);
constexpr size_t kMaxPooled = 16;

std::optional<StatusCode> StatusCodeNamed(std::string_view name) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    if (StatusCodeName(static_cast<StatusCode>(c)) == name) return static_cast<StatusCode>(c);
  }
  return std::nullopt;
}

// A non-2xx answer as a Status: the server's {"error":{"code","message","field"}}, or, from
// something else on the way (a proxy), a guess from the HTTP status.
Status DecodeError(int http, const std::string& body) {
  StatusCode code = http == 504 || http == 408 ? StatusCode::kDeadlineExceeded
                    : http >= 500              ? StatusCode::kUnavailable
                    : http == 404              ? StatusCode::kNotFound
                                               : StatusCode::kInvalidArgument;
  std::string message = "HTTP " + std::to_string(http), field;
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    const json& e = doc["error"];
    if (e.contains("code") && e["code"].is_string()) {
      code = StatusCodeNamed(e["code"].get<std::string>()).value_or(code);
      if (code == StatusCode::kOk) code = StatusCode::kInternal;
    }
    if (e.contains("message") && e["message"].is_string()) message = e["message"].get<std::string>();
    if (e.contains("field") && e["field"].is_string()) field = e["field"].get<std::string>();
  }
  // Only an absent key is kNotFound (callers treat it as "not yet"); any other 404 means the job
  // has no store to talk to (not elastic, finished, or a wrong URL).
  if (code == StatusCode::kNotFound && field != "key") return Status::FailedPrecondition(message);
  return Status(code, std::move(message), std::move(field));
}

Result<json> ParseJson(const std::string& body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return Err(Status::Internal("the rendezvous store answered with a body that is not JSON"));
  return doc;
}

}  // namespace

struct HttpKvStore::Reply {
  int status = 0;
  std::string body;
};

struct HttpKvStore::Idle {
  std::unique_ptr<httplib::Client> client;
  SteadyClock::time_point since;
};

// Exclusive use of one connection for one call; returned to the pool unless it failed.
class HttpKvStore::Lease {
 public:
  explicit Lease(HttpKvStore& store) : store_(store) {
    {
      std::lock_guard lock(store_.mu_);
      auto now = SteadyClock::now();
      while (!store_.idle_.empty()) {
        Idle idle = std::move(store_.idle_.back());
        store_.idle_.pop_back();
        if (now - idle.since < kMaxIdle) {
          client_ = std::move(idle.client);
          break;
        }
      }
    }
    if (!client_) {
      client_ = std::make_unique<httplib::Client>(store_.origin_);
      client_->set_connection_timeout(store_.options_.connect_timeout);
      client_->set_write_timeout(store_.options_.request_timeout);
      client_->set_keep_alive(true);
      client_->set_tcp_nodelay(true);
    }
  }
  ~Lease() {
    if (!client_) return;
    std::lock_guard lock(store_.mu_);
    if (store_.idle_.size() < kMaxPooled) store_.idle_.push_back(Idle{std::move(client_), SteadyClock::now()});
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  httplib::Client& client() { return *client_; }
  void Discard() { client_.reset(); }

 private:
  HttpKvStore& store_;
  std::unique_ptr<httplib::Client> client_;
};

Result<std::unique_ptr<HttpKvStore>> HttpKvStore::Open(std::string base_url, std::string token) {
  return Open(std::move(base_url), std::move(token), Options{});
}

Result<std::unique_ptr<HttpKvStore>> HttpKvStore::Open(std::string base_url, std::string token, Options options) {
  const Status bad = Status::InvalidArgument(
      "the store URL must be the job's API URL, like http://host:8080/api/v1/jobs/42; got \"" + base_url + "\"",
      "store");
  if (!base_url.starts_with("http://") && !base_url.starts_with("https://")) return Err(bad);
  while (base_url.ends_with('/')) base_url.pop_back();
  size_t host_start = base_url.find("://") + 3;
  size_t path_start = base_url.find('/', host_start);
  if (path_start == std::string::npos || path_start == host_start) return Err(bad);
  if (token.empty()) return Err(Status::Unauthenticated("the rendezvous store needs a bearer token"));
  std::string origin = base_url.substr(0, path_start);
  if (!httplib::Client(origin).is_valid()) return Err(bad);
  return std::unique_ptr<HttpKvStore>(
      new HttpKvStore(std::move(origin), base_url.substr(path_start), std::move(token), options));
}

HttpKvStore::HttpKvStore(std::string origin, std::string path, std::string token, Options options)
    : origin_(std::move(origin)), path_(std::move(path)), token_(std::move(token)), options_(options) {}

HttpKvStore::~HttpKvStore() = default;

std::string HttpKvStore::Target(std::string_view suffix, std::string_view key) const {
  std::string target = path_ + "/kv" + std::string(suffix);
  if (!key.empty()) target += "?key=" + httplib::detail::encode_query_param(std::string(key));
  return target;
}

Result<HttpKvStore::Reply> HttpKvStore::Call(const std::string& method, const std::string& target,
                                             std::string_view body, const char* content_type,
                                             std::chrono::milliseconds read_timeout) {
  httplib::Request req;
  req.method = method;
  req.path = target;
  req.set_header("Authorization", "Bearer " + token_);
  if (content_type != nullptr) {
    req.body.assign(body.data(), body.size());
    req.set_header("Content-Type", content_type);
  }
  Lease lease(*this);
  lease.client().set_read_timeout(read_timeout);
  httplib::Result res = [&] {
    try {
      return lease.client().send(req);
    } catch (const std::exception&) {
      return httplib::Result(nullptr, httplib::Error::Unknown);
    }
  }();
  if (!res) {
    lease.Discard();
    return Err(Status::Unavailable("cannot reach the rendezvous store at " + origin_ + path_ + ": " +
                                   httplib::to_string(res.error()) + " error"));
  }
  if (res->status < 200 || res->status >= 300) return Err(DecodeError(res->status, res->body));
  return Reply{res->status, std::move(res->body)};
}

Status HttpKvStore::Set(std::string_view key, std::string_view value) {
  auto reply = Call("PUT", Target("", key), value, "application/octet-stream", options_.request_timeout);
  return reply.has_value() ? Status::Ok() : reply.error();
}

Result<std::string> HttpKvStore::Get(std::string_view key) {
  STOKE_ASSIGN_OR_RETURN(Reply reply, Call("GET", Target("", key), {}, nullptr, options_.request_timeout));
  return std::move(reply.body);
}

Result<int64_t> HttpKvStore::Add(std::string_view key, int64_t delta) {
  std::string target = Target("/add", key) + "&delta=" + std::to_string(delta);
  STOKE_ASSIGN_OR_RETURN(Reply reply, Call("POST", target, "", "application/octet-stream", options_.request_timeout));
  STOKE_ASSIGN_OR_RETURN(json doc, ParseJson(reply.body));
  if (!doc.contains("value") || !doc["value"].is_number_integer()) {
    return Err(Status::Internal("the rendezvous store's add answer has no integer value"));
  }
  return doc["value"].get<int64_t>();
}

Result<bool> HttpKvStore::CompareSet(std::string_view key, std::optional<std::string_view> expected,
                                     std::string_view desired) {
  json body = {{"key", std::string(key)},
               {"expected", expected ? json(kv_wire::HexEncode(*expected)) : json(nullptr)},
               {"desired", kv_wire::HexEncode(desired)}};
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  STOKE_ASSIGN_OR_RETURN(Reply reply,
                         Call("POST", Target("/compare-set", ""), text, "application/json", options_.request_timeout));
  STOKE_ASSIGN_OR_RETURN(json doc, ParseJson(reply.body));
  if (!doc.contains("stored") || !doc["stored"].is_boolean()) {
    return Err(Status::Internal("the rendezvous store's compare-set answer has no stored flag"));
  }
  return doc["stored"].get<bool>();
}

Status HttpKvStore::Wait(std::span<const std::string> keys, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  json key_list = json::array();
  for (const std::string& k : keys) key_list.push_back(k);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    auto slice = std::clamp(left, std::chrono::milliseconds(0), options_.wait_slice);
    json body = {{"keys", key_list}, {"timeout_ms", slice.count()}};
    std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
    // The answer may take the whole slice; allow the request budget on top of it.
    auto reply = Call("POST", Target("/wait", ""), text, "application/json", slice + options_.request_timeout);
    if (reply.has_value()) return Status::Ok();
    if (reply.error().code() != StatusCode::kDeadlineExceeded || SteadyClock::now() >= deadline) {
      return reply.error();
    }
  }
}

Result<bool> HttpKvStore::Delete(std::string_view key) {
  STOKE_ASSIGN_OR_RETURN(Reply reply, Call("DELETE", Target("", key), {}, nullptr, options_.request_timeout));
  STOKE_ASSIGN_OR_RETURN(json doc, ParseJson(reply.body));
  if (!doc.contains("existed") || !doc["existed"].is_boolean()) {
    return Err(Status::Internal("the rendezvous store's delete answer has no existed flag"));
  }
  return doc["existed"].get<bool>();
}

}  // namespace stoke::elastic
