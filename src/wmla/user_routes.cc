// Logon (HTTP Basic -> token) and the admin REST for password users.
#include <openssl/evp.h>

#include "api/json_reader.h"
#include "wmla/routes_internal.h"
#include "wmla/wmla_format.h"

namespace stoke::wmla::internal {

using nlohmann::json;

namespace {

// "Basic base64(user:password)" -> (user, password).
Result<std::pair<std::string, std::string>> ParseBasic(const std::string& header) {
  static const Status kMissing =
      Status::Unauthenticated("log on with HTTP Basic authentication (Authorization: Basic base64(user:password))");
  if (header.size() < 6 || strncasecmp(header.c_str(), "Basic ", 6) != 0) return Err(kMissing);
  std::string b64 = header.substr(6);
  while (!b64.empty() && (b64.back() == ' ' || b64.back() == '\r')) b64.pop_back();
  if (b64.empty() || b64.size() % 4 != 0 || b64.size() > 8192) return Err(kMissing);
  std::string decoded(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return Err(kMissing);
  size_t len = static_cast<size_t>(n);
  for (size_t i = b64.size(); i > 0 && b64[i - 1] == '='; --i) --len;  // EVP_DecodeBlock keeps padding bytes
  decoded.resize(len);
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return Err(kMissing);
  return std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1));
}

Status Logon(WmlaContext& ctx, const httplib::Request& req, httplib::Response& res) {
  STOKE_ASSIGN_OR_RETURN(auto creds, ParseBasic(req.get_header_value("Authorization")));
  STOKE_ASSIGN_OR_RETURN(UserRecord user, ctx.users.Verify(creds.first, creds.second));
  STOKE_ASSIGN_OR_RETURN(service::IssuedToken token, ctx.deps.auth.CreateToken(user.name, user.admin));
  api::WriteJson(res, 200, json{{"accessToken", token.secret}, {"user_name", user.name}, {"admin", user.admin}}.dump());
  return Status::Ok();
}

json UserJson(const UserRecord& u) {
  return json{{"user", u.name},
              {"admin", u.admin},
              {"created_at", FormatRfc3339(u.created_at)},
              {"password_changed_at", FormatRfc3339(u.password_changed_at)}};
}

Status RequireAdmin(const api::RequestContext& rc) {
  if (!rc.principal.admin || rc.principal.job_scope != 0) return Status::PermissionDenied("only admins manage users");
  return Status::Ok();
}

}  // namespace

std::vector<api::Route> UserRoutes(ContextPtr ctx) {
  std::vector<api::Route> r;
  auto logon = [ctx](const httplib::Request& req, httplib::Response& res, const api::RequestContext&) {
    return Logon(*ctx, req, res);
  };
  r.push_back({"GET", "/auth/v1/logon", "/auth/v1/logon", "WMLA: log on with HTTP Basic; answers {accessToken}", false,
               logon, {}, WriteWmlaError});
  r.push_back({"GET", "/platform/rest/conductor/v1/auth/logon", "/platform/rest/conductor/v1/auth/logon",
               "WMLA 1.2 (Conductor): log on with HTTP Basic; answers {accessToken}", false, logon, {}, WriteWmlaError});

  r.push_back({"POST", "/api/v1/users", "/api/v1/users", "Create a password user (admin): {user, password, admin}",
               true, [ctx](const auto& req, auto& res, const auto& rc) -> Status {
                 STOKE_RETURN_IF_ERROR(RequireAdmin(rc));
                 STOKE_ASSIGN_OR_RETURN(json body, api::JsonBody(req));
                 STOKE_ASSIGN_OR_RETURN(api::JsonObjectReader reader, api::JsonObjectReader::Make(body));
                 STOKE_ASSIGN_OR_RETURN(auto user, reader.String("user", 64));
                 STOKE_ASSIGN_OR_RETURN(auto password, reader.String("password", 1024));
                 STOKE_ASSIGN_OR_RETURN(auto admin, reader.Bool("admin"));
                 STOKE_RETURN_IF_ERROR(reader.Finish());
                 if (!user) return Status::InvalidArgument("user is required", "user");
                 if (!password) return Status::InvalidArgument("password is required", "password");
                 STOKE_ASSIGN_OR_RETURN(UserRecord u, ctx->users.Create(*user, *password, admin.value_or(false)));
                 api::WriteJson(res, 201, UserJson(u).dump());
                 return Status::Ok();
               }});
  r.push_back({"GET", "/api/v1/users", "/api/v1/users", "List password users (admin)", true,
               [ctx](const auto&, auto& res, const auto& rc) -> Status {
                 STOKE_RETURN_IF_ERROR(RequireAdmin(rc));
                 STOKE_ASSIGN_OR_RETURN(auto users, ctx->users.List());
                 json out = {{"users", json::array()}};
                 for (const auto& u : users) out["users"].push_back(UserJson(u));
                 api::WriteJson(res, 200, out.dump());
                 return Status::Ok();
               }});
  r.push_back({"POST", R"(/api/v1/users/([^/]+)/password)", "/api/v1/users/{name}/password",
               "Set a user's password (admin, or the user): {password}", true,
               [ctx](const auto& req, auto& res, const auto& rc) -> Status {
                 std::string name = req.matches[1];
                 bool self = rc.principal.job_scope == 0 && rc.principal.user == name;
                 if (!self) STOKE_RETURN_IF_ERROR(RequireAdmin(rc));
                 STOKE_ASSIGN_OR_RETURN(json body, api::JsonBody(req));
                 STOKE_ASSIGN_OR_RETURN(api::JsonObjectReader reader, api::JsonObjectReader::Make(body));
                 STOKE_ASSIGN_OR_RETURN(auto password, reader.String("password", 1024));
                 STOKE_RETURN_IF_ERROR(reader.Finish());
                 if (!password) return Status::InvalidArgument("password is required", "password");
                 STOKE_RETURN_IF_ERROR(ctx->users.SetPassword(name, *password));
                 res.status = 204;
                 return Status::Ok();
               }});
  return r;
}

}  // namespace stoke::wmla::internal
