#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "store/store.h"

namespace stoke::wmla {

struct UserRecord {
  std::string name;
  bool admin = false;
  UnixMillis created_at = 0;
  UnixMillis password_changed_at = 0;
};

// Users with passwords, for WMLA's logon endpoints (HTTP Basic → token). Records live in the store's
// key-value namespace "users" as JSON {"hash","admin","created_at","password_changed_at"}; the hash is
// an argon2id encoded string (salt and parameters inside), never the password. Thread-safe (the store is).
class UserStore {
 public:
  UserStore(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // kAlreadyExists for a taken name; kInvalidArgument (field "user" / "password") for a bad name or a
  // password shorter than 8 or longer than 1024 bytes.
  Result<UserRecord> Create(const std::string& name, const std::string& password, bool admin);
  // kNotFound without the user.
  Status SetPassword(const std::string& name, const std::string& password);
  // The user when the password matches; kUnauthenticated for an unknown user or a wrong password
  // (same message and about the same time either way, so names cannot be probed).
  Result<UserRecord> Verify(const std::string& name, const std::string& password);
  Result<std::vector<UserRecord>> List();
  Result<UserRecord> Get(const std::string& name);

  static constexpr const char* kNamespace = "users";

 private:
  store::Store& store_;
  const Clock& clock_;
};

// argon2id with a random 16-byte salt (t=2, m=19 MiB, p=1: the OWASP baseline); returns the encoded form.
Result<std::string> HashPassword(const std::string& password);
// True when `password` matches the encoded argon2id hash.
bool VerifyPassword(const std::string& encoded, const std::string& password);

}  // namespace stoke::wmla
