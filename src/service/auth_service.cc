#include "service/auth_service.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <regex>

namespace stoke::service {

namespace {
std::string Hex(const unsigned char* data, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}
}  // namespace

std::string AuthService::HashToken(std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(secret.data(), secret.size(), digest, &len, EVP_sha256(), nullptr);
  return Hex(digest, len);
}

Status AuthService::ValidateUserName(const std::string& user) {
  static const std::regex kUser("[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}");
  if (!std::regex_match(user, kUser)) {
    return Status::InvalidArgument("user must be 1-64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit",
                                   "user");
  }
  return Status::Ok();
}

Result<IssuedToken> AuthService::CreateToken(const std::string& user, bool admin, JobId job_scope) {
  STOKE_RETURN_IF_ERROR(ValidateUserName(user));
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return Err(Status::Internal("no randomness for a token"));
  IssuedToken issued;
  issued.secret = "stk_" + Hex(bytes, sizeof(bytes));
  store::TokenRecord rec;
  rec.user = user;
  rec.admin = admin;
  rec.job_scope = job_scope;
  rec.hash = HashToken(issued.secret);
  rec.created_at = clock_.NowMillis();
  STOKE_ASSIGN_OR_RETURN(issued.record, store_.CreateToken(rec));
  return issued;
}

Result<Principal> AuthService::Authenticate(std::string_view header) {
  if (header.empty()) {
    return Err(Status::Unauthenticated("missing Authorization header: send 'Authorization: Bearer <token>'"));
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.substr(0, kBearer.size()) != kBearer) {
    return Err(Status::Unauthenticated("Authorization header must be 'Bearer <token>'"));
  }
  return AuthenticateToken(header.substr(kBearer.size()));
}

Result<Principal> AuthService::AuthenticateToken(std::string_view token) {
  if (token.empty() || token.size() > 256) return Err(Status::Unauthenticated("invalid token"));
  STOKE_ASSIGN_OR_RETURN(auto rec, store_.FindTokenByHash(HashToken(token)));
  if (!rec || rec->revoked) return Err(Status::Unauthenticated("invalid or revoked token"));
  return Principal{rec->user, rec->admin, rec->job_scope};
}

Result<std::vector<store::TokenRecord>> AuthService::ListTokens() { return store_.ListTokens(); }

Status AuthService::RevokeToken(int64_t id) { return store_.RevokeToken(id); }

Status AuthService::RevokeJobTokens(JobId job) { return store_.RevokeJobTokens(job); }

Result<std::string> AuthService::BootstrapAdmin() {
  STOKE_ASSIGN_OR_RETURN(auto tokens, store_.ListTokens());
  for (const auto& t : tokens) {
    if (t.admin && !t.revoked && t.job_scope == 0) return std::string();
  }
  STOKE_ASSIGN_OR_RETURN(IssuedToken issued, CreateToken("admin", true));
  return issued.secret;
}

}  // namespace stoke::service
