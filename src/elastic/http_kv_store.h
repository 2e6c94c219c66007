#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "elastic/kv_store.h"

namespace httplib {
class Client;
}

namespace stoke::elastic {

// The HTTP wire of a job's rendezvous store (docs/api.md "Elastic rendezvous store"), shared by
// HttpKvStore and the server's routes (src/api/kv_routes.cc).
namespace kv_wire {
// The longest one server-side Wait blocks; clients loop for longer timeouts.
inline constexpr std::chrono::milliseconds kMaxWait{30000};
// Lower-case hex of raw bytes (values inside JSON bodies: compare-set).
std::string HexEncode(std::string_view bytes);
// nullopt on an odd length or a non-hex digit.
std::optional<std::string> HexDecode(std::string_view hex);
}  // namespace kv_wire

// A KvStore that is one job's store on the Stoke server, reached over HTTP(S):
// base_url is the job's API URL ("http://127.0.0.1:8080/api/v1/jobs/42") and token a bearer
// token allowed to use it (the job's own $STOKE_TOKEN, or an admin's). Wait is a server long-poll
// of at most kv_wire::kMaxWait per request, repeated until the caller's timeout.
// Thread-safe: every call leases its own kept-alive connection from a small pool, so a long Wait
// never blocks a concurrent Set. Transport failures are kUnavailable (callers retry); a job
// without a rendezvous store (not elastic, or no longer running) is kFailedPrecondition.
class HttpKvStore final : public KvStore {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds request_timeout{30000};  // a non-Wait call's read/write budget
    std::chrono::milliseconds wait_slice = kv_wire::kMaxWait;  // one long-poll request at most
  };

  static Result<std::unique_ptr<HttpKvStore>> Open(std::string base_url, std::string token);
  static Result<std::unique_ptr<HttpKvStore>> Open(std::string base_url, std::string token, Options options);
  ~HttpKvStore() override;

  Status Set(std::string_view key, std::string_view value) override;
  Result<std::string> Get(std::string_view key) override;
  Result<int64_t> Add(std::string_view key, int64_t delta) override;
  Result<bool> CompareSet(std::string_view key, std::optional<std::string_view> expected,
                          std::string_view desired) override;
  Status Wait(std::span<const std::string> keys, std::chrono::milliseconds timeout) override;
  Result<bool> Delete(std::string_view key) override;

 private:
  struct Reply;
  struct Idle;
  class Lease;

  HttpKvStore(std::string origin, std::string path, std::string token, Options options);
  // One request on a leased connection; transport failures come back as kUnavailable, a non-2xx
  // answer as its decoded error.
  Result<Reply> Call(const std::string& method, const std::string& target, std::string_view body,
                     const char* content_type, std::chrono::milliseconds read_timeout);
  std::string Target(std::string_view suffix, std::string_view key) const;

  const std::string origin_;  // scheme://host:port
  const std::string path_;    // /api/v1/jobs/42
  const std::string token_;
  const Options options_;
  std::mutex mu_;
  std::vector<Idle> idle_;  // GUARDED_BY(mu_)
};

}  // namespace stoke::elastic
