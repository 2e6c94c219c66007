#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "service/principal.h"
#include "store/store.h"

namespace stoke::service {

// A freshly minted token: the secret is only ever visible here.
struct IssuedToken {
  store::TokenRecord record;
  std::string secret;  // "stk_<64 hex>"
};

// Bearer tokens: minted with 256 random bits, stored as SHA-256 hashes (the secret is never
// stored; a fast hash is enough because the secret has full entropy, unlike a password).
// Thread-safe.
class AuthService {
 public:
  AuthService(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  Result<IssuedToken> CreateToken(const std::string& user, bool admin, JobId job_scope = 0);
  // Resolves an `Authorization` header value ("Bearer stk_...") to a principal.
  Result<Principal> Authenticate(std::string_view authorization_header);
  Result<Principal> AuthenticateToken(std::string_view token);
  Result<std::vector<store::TokenRecord>> ListTokens();
  Status RevokeToken(int64_t id);
  Status RevokeJobTokens(JobId job);

  // Creates the first admin token when the store has none; returns its secret (empty otherwise).
  Result<std::string> BootstrapAdmin();

  static std::string HashToken(std::string_view secret);
  static Status ValidateUserName(const std::string& user);

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace stoke::service
