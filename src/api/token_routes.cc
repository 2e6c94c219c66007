#include "api/json_reader.h"
#include "api/routes.h"

namespace stoke::api {

using nlohmann::json;

namespace {

Status RequireAdmin(const RequestContext& ctx) {
  if (!ctx.principal.admin || ctx.principal.job_scope != 0) {
    return Status::PermissionDenied("only admins manage tokens");
  }
  return Status::Ok();
}

json TokenToJson(const store::TokenRecord& t) {
  return json{{"id", t.id},
              {"user", t.user},
              {"admin", t.admin},
              {"job", t.job_scope == 0 ? json(nullptr) : json(t.job_scope)},
              {"created_at", FormatRfc3339(t.created_at)},
              {"revoked", t.revoked}};
}

}  // namespace

std::vector<Route> TokenRoutes(service::AuthService& auth) {
  std::vector<Route> r;
  r.push_back({"POST", "/api/v1/tokens", "/api/v1/tokens", "Create a token for a user (admin); the secret is shown once",
               true, [&auth](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_RETURN_IF_ERROR(RequireAdmin(ctx));
                 STOKE_ASSIGN_OR_RETURN(json body, JsonBody(req));
                 STOKE_ASSIGN_OR_RETURN(JsonObjectReader reader, JsonObjectReader::Make(body));
                 STOKE_ASSIGN_OR_RETURN(auto user, reader.String("user", 64));
                 STOKE_ASSIGN_OR_RETURN(auto admin, reader.Bool("admin"));
                 STOKE_RETURN_IF_ERROR(reader.Finish());
                 if (!user) return Status::InvalidArgument("user is required", "user");
                 STOKE_ASSIGN_OR_RETURN(auto issued, auth.CreateToken(*user, admin.value_or(false)));
                 json out = TokenToJson(issued.record);
                 out["token"] = issued.secret;
                 WriteJson(res, 201, out.dump());
                 return Status::Ok();
               }});
  r.push_back({"GET", "/api/v1/tokens", "/api/v1/tokens", "List tokens (admin); secrets are never shown", true,
               [&auth](const auto&, auto& res, const auto& ctx) -> Status {
                 STOKE_RETURN_IF_ERROR(RequireAdmin(ctx));
                 STOKE_ASSIGN_OR_RETURN(auto tokens, auth.ListTokens());
                 json out = {{"tokens", json::array()}};
                 for (const auto& t : tokens) {
                   if (t.job_scope == 0) out["tokens"].push_back(TokenToJson(t));
                 }
                 WriteJson(res, 200, out.dump());
                 return Status::Ok();
               }});
  r.push_back({"DELETE", R"(/api/v1/tokens/(\d+))", "/api/v1/tokens/{id}", "Revoke a token (admin)", true,
               [&auth](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_RETURN_IF_ERROR(RequireAdmin(ctx));
                 STOKE_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                 STOKE_RETURN_IF_ERROR(auth.RevokeToken(id));
                 res.status = 204;
                 return Status::Ok();
               }});
  r.push_back({"GET", "/api/v1/whoami", "/api/v1/whoami", "Who the token belongs to", true,
               [](const auto&, auto& res, const auto& ctx) -> Status {
                 json out = {{"user", ctx.principal.user}, {"admin", ctx.principal.admin}};
                 if (ctx.principal.job_scope != 0) out["job"] = ctx.principal.job_scope;
                 WriteJson(res, 200, out.dump());
                 return Status::Ok();
               }});
  return r;
}

}  // namespace stoke::api
