#include "api/kv_routes.h"

#include <algorithm>
#include <memory>
#include <string>

#include "api/json_reader.h"

namespace stoke::api {

using nlohmann::json;
using service::RendezvousRegistry;

namespace {

constexpr size_t kMaxKeyBytes = 4096;
constexpr size_t kMaxWaitKeys = 4096;
constexpr size_t kMaxJsonBody = 16 << 20;  // compare-set carries two hex-encoded values

// The store of the job in the path, for a caller holding that job's token or an admin token.
// Other callers are refused before the job is looked up, so nothing about other jobs leaks.
Result<std::shared_ptr<elastic::KvStore>> JobStore(RendezvousRegistry& registry, const httplib::Request& req,
                                                   const RequestContext& ctx) {
  STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
  const service::Principal& who = ctx.principal;
  if (who.job_scope != 0 ? who.job_scope != id : !who.admin) {
    return Err(Status::PermissionDenied("the rendezvous store of job " + std::to_string(id) +
                                        " takes that job's own token ($STOKE_TOKEN) or an admin token"));
  }
  auto store = registry.Find(id);
  if (!store) {
    return Err(Status::NotFound("job " + std::to_string(id) +
                                " has no rendezvous store (it is not an elastic job, or not running)"));
  }
  return store;
}

Result<std::string> QueryKey(const httplib::Request& req) {
  std::string key = req.get_param_value("key");
  if (key.empty()) return Err(Status::InvalidArgument("the query parameter key is required", "key"));
  if (key.size() > kMaxKeyBytes) return Err(Status::InvalidArgument("key is too long", "key"));
  return key;
}

// A hex-encoded value from a JSON body; nullopt when absent or null.
Result<std::optional<std::string>> HexField(JsonObjectReader& body, std::string_view name) {
  STOKE_ASSIGN_OR_RETURN(auto hex, body.String(name, kMaxJsonBody));
  if (!hex) return std::optional<std::string>();
  auto bytes = elastic::kv_wire::HexDecode(*hex);
  if (!bytes) return Err(Status::InvalidArgument(std::string(name) + " must be hex-encoded bytes", std::string(name)));
  return bytes;
}

Status GetValue(RendezvousRegistry& registry, const httplib::Request& req, httplib::Response& res,
                const RequestContext& ctx) {
  STOKE_ASSIGN_OR_RETURN(auto store, JobStore(registry, req, ctx));
  STOKE_ASSIGN_OR_RETURN(std::string key, QueryKey(req));
  auto value = store->Get(key);
  if (!value) {
    // field "key" tells an absent key apart from a job without a store (both 404).
    if (value.error().code() == StatusCode::kNotFound) {
      return Status(StatusCode::kNotFound, "no key \"" + key + "\" in the store", "key");
    }
    return value.error();
  }
  res.status = 200;
  res.set_content(*value, "application/octet-stream");
  return Status::Ok();
}

Status PutValue(RendezvousRegistry& registry, const httplib::Request& req, httplib::Response& res,
                const RequestContext& ctx) {
  STOKE_ASSIGN_OR_RETURN(auto store, JobStore(registry, req, ctx));
  STOKE_ASSIGN_OR_RETURN(std::string key, QueryKey(req));
  STOKE_RETURN_IF_ERROR(store->Set(key, req.body));
  res.status = 204;
  return Status::Ok();
}

Status DeleteValue(RendezvousRegistry& registry, const httplib::Request& req, httplib::Response& res,
                   const RequestContext& ctx) {
  STOKE_ASSIGN_OR_RETURN(auto store, JobStore(registry, req, ctx));
  STOKE_ASSIGN_OR_RETURN(std::string key, QueryKey(req));
  STOKE_ASSIGN_OR_RETURN(bool existed, store->Delete(key));
  WriteJson(res, 200, json{{"existed", existed}}.dump());
  return Status::Ok();
}

Status AddValue(RendezvousRegistry& registry, const httplib::Request& req, httplib::Response& res,
                const RequestContext& ctx) {
  STOKE_ASSIGN_OR_RETURN(auto store, JobStore(registry, req, ctx));
  STOKE_ASSIGN_OR_RETURN(std::string key, QueryKey(req));
  STOKE_ASSIGN_OR_RETURN(auto delta, QueryInt(req, "delta", INT64_MIN, INT64_MAX));
  if (!delta) return Status::InvalidArgument("the query parameter delta is required", "delta");
  STOKE_ASSIGN_OR_RETURN(int64_t value, store->Add(key, *delta));
  WriteJson(res, 200, json{{"value", value}}.dump());
  return Status::Ok();
}

Status CompareSetValue(RendezvousRegistry& registry, const httplib::Request& req, httplib::Response& res,
                       const RequestContext& ctx) {
  STOKE_ASSIGN_OR_RETURN(auto store, JobStore(registry, req, ctx));
  STOKE_ASSIGN_OR_RETURN(json doc, JsonBody(req, kMaxJsonBody));
  STOKE_ASSIGN_OR_RETURN(JsonObjectReader body, JsonObjectReader::Make(doc));
  STOKE_ASSIGN_OR_RETURN(auto key, body.String("key", kMaxKeyBytes));
  STOKE_ASSIGN_OR_RETURN(auto expected, HexField(body, "expected"));
  STOKE_ASSIGN_OR_RETURN(auto desired, HexField(body, "desired"));
  STOKE_RETURN_IF_ERROR(body.Finish());
  if (!key || key->empty()) return Status::InvalidArgument("key is required", "key");
  if (!desired) return Status::InvalidArgument("desired is required", "desired");
  std::optional<std::string_view> want;
  if (expected) want = *expected;
  STOKE_ASSIGN_OR_RETURN(bool stored, store->CompareSet(*key, want, *desired));
  WriteJson(res, 200, json{{"stored", stored}}.dump());
  return Status::Ok();
}

Status WaitKeys(RendezvousRegistry& registry, std::chrono::milliseconds max_wait, const httplib::Request& req,
                httplib::Response& res, const RequestContext& ctx) {
  STOKE_ASSIGN_OR_RETURN(auto store, JobStore(registry, req, ctx));
  STOKE_ASSIGN_OR_RETURN(json doc, JsonBody(req));
  STOKE_ASSIGN_OR_RETURN(JsonObjectReader body, JsonObjectReader::Make(doc));
  STOKE_ASSIGN_OR_RETURN(auto keys, body.StringArray("keys", kMaxWaitKeys, kMaxKeyBytes));
  STOKE_ASSIGN_OR_RETURN(auto timeout_ms, body.Int("timeout_ms", 0, INT64_MAX / 2));
  STOKE_RETURN_IF_ERROR(body.Finish());
  if (!keys) return Status::InvalidArgument("keys is required", "keys");
  auto timeout = std::min(std::chrono::milliseconds(timeout_ms.value_or(max_wait.count())), max_wait);
  Status waited = store->Wait(*keys, timeout);
  if (waited.code() == StatusCode::kDeadlineExceeded) {
    return Status::DeadlineExceeded("not every key was set within " + std::to_string(timeout.count()) + " ms");
  }
  STOKE_RETURN_IF_ERROR(waited);
  WriteJson(res, 200, "{}");
  return Status::Ok();
}

}  // namespace

std::vector<Route> KvRoutes(RendezvousRegistry& registry, std::chrono::milliseconds max_wait) {
  const std::string kv = R"(/api/v1/jobs/(\d+)/kv)";
  const std::string doc = "/api/v1/jobs/{id}/kv";
  auto bind = [&registry](Status (*fn)(RendezvousRegistry&, const httplib::Request&, httplib::Response&,
                                       const RequestContext&)) -> Handler {
    return [&registry, fn](const auto& req, auto& res, const auto& ctx) { return fn(registry, req, res, ctx); };
  };
  std::vector<Route> r;
  r.push_back({"GET", kv, doc, "Elastic rendezvous: a key's raw value (404 with field key when absent)", true,
               bind(GetValue), {"key"}});
  r.push_back({"PUT", kv, doc, "Elastic rendezvous: set a key to the raw request body", true, bind(PutValue),
               {"key"}});
  r.push_back({"DELETE", kv, doc, "Elastic rendezvous: remove a key; {existed}", true, bind(DeleteValue), {"key"}});
  r.push_back({"POST", kv + "/add", doc + "/add", "Elastic rendezvous: add delta to a decimal counter; {value}",
               true, bind(AddValue), {"key", "delta"}});
  r.push_back({"POST", kv + "/compare-set", doc + "/compare-set",
               "Elastic rendezvous: {key, expected: hex|null, desired: hex} stored atomically when the value "
               "equals expected (null: absent); {stored}",
               true, bind(CompareSetValue)});
  r.push_back({"POST", kv + "/wait", doc + "/wait",
               "Elastic rendezvous: {keys, timeout_ms} answers {} once every key exists, 504 after the timeout "
               "(at most 30 s per request)",
               true, [&registry, max_wait](const auto& req, auto& res, const auto& ctx) {
                 return WaitKeys(registry, max_wait, req, res, ctx);
               }});
  return r;
}

}  // namespace stoke::api
