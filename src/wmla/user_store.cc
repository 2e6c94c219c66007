#include "wmla/user_store.h"

#include <argon2.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "service/auth_service.h"

namespace stoke::wmla {

using nlohmann::json;

namespace {

constexpr uint32_t kTimeCost = 2;
constexpr uint32_t kMemoryKiB = 19 * 1024;
constexpr uint32_t kLanes = 1;
constexpr size_t kSaltLen = 16;
constexpr size_t kHashLen = 32;

Status ValidatePassword(const std::string& password) {
  if (password.size() < 8) return Status::InvalidArgument("password must be at least 8 characters", "password");
  if (password.size() > 1024) return Status::InvalidArgument("password must be at most 1024 bytes", "password");
  return Status::Ok();
}

json ToJson(const UserRecord& u, const std::string& hash) {
  return json{{"hash", hash}, {"admin", u.admin}, {"created_at", u.created_at},
              {"password_changed_at", u.password_changed_at}};
}

Result<std::pair<UserRecord, std::string>> Decode(const std::string& name, const std::string& text) {
  try {
    json doc = json::parse(text);
    UserRecord u;
    u.name = name;
    u.admin = doc.value("admin", false);
    u.created_at = doc.value("created_at", int64_t{0});
    u.password_changed_at = doc.value("password_changed_at", int64_t{0});
    return std::make_pair(u, doc.value("hash", std::string()));
  } catch (const std::exception& e) {
    return Err(Status::Internal("stored user record for " + name + " is corrupt"));
  }
}

}  // namespace

Result<std::string> HashPassword(const std::string& password) {
  unsigned char salt[kSaltLen];
  if (RAND_bytes(salt, sizeof(salt)) != 1) return Err(Status::Internal("no randomness for the password salt"));
  size_t len = argon2_encodedlen(kTimeCost, kMemoryKiB, kLanes, kSaltLen, kHashLen, Argon2_id);
  std::string encoded(len, '\0');
  int rc = argon2id_hash_encoded(kTimeCost, kMemoryKiB, kLanes, password.data(), password.size(), salt, kSaltLen,
                                 kHashLen, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return Err(Status::Internal(std::string("argon2 failed: ") + argon2_error_message(rc)));
  encoded.resize(std::char_traits<char>::length(encoded.c_str()));
  return encoded;
}

bool VerifyPassword(const std::string& encoded, const std::string& password) {
  if (encoded.empty()) return false;
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

Result<UserRecord> UserStore::Create(const std::string& name, const std::string& password, bool admin) {
  if (Status s = service::AuthService::ValidateUserName(name); !s.ok()) {
    return Err(Status::InvalidArgument(s.message(), "user"));
  }
  STOKE_RETURN_IF_ERROR(ValidatePassword(password));
  STOKE_ASSIGN_OR_RETURN(auto existing, store_.Get(kNamespace, name));
  if (existing) return Err(Status::AlreadyExists("user " + name + " already exists"));
  STOKE_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  UserRecord u;
  u.name = name;
  u.admin = admin;
  u.created_at = clock_.NowMillis();
  u.password_changed_at = u.created_at;
  STOKE_RETURN_IF_ERROR(store_.Put(kNamespace, name, ToJson(u, hash).dump()));
  return u;
}

Status UserStore::SetPassword(const std::string& name, const std::string& password) {
  STOKE_RETURN_IF_ERROR(ValidatePassword(password));
  STOKE_ASSIGN_OR_RETURN(auto text, store_.Get(kNamespace, name));
  if (!text) return Status::NotFound("no user " + name);
  STOKE_ASSIGN_OR_RETURN(auto decoded, Decode(name, *text));
  STOKE_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  decoded.first.password_changed_at = clock_.NowMillis();
  return store_.Put(kNamespace, name, ToJson(decoded.first, hash).dump());
}

Result<UserRecord> UserStore::Verify(const std::string& name, const std::string& password) {
  static const Status kBad = Status::Unauthenticated("wrong user name or password");
  auto text = store_.Get(kNamespace, name);
  if (!text) return Err(text.error());
  if (!*text) {
    // Spend the same work as a real check so that unknown names are not faster to reject.
    static const std::string kDummy = HashPassword("not-a-real-password").value_or("");
    (void)VerifyPassword(kDummy, password);
    return Err(kBad);
  }
  STOKE_ASSIGN_OR_RETURN(auto decoded, Decode(name, **text));
  if (!VerifyPassword(decoded.second, password)) return Err(kBad);
  return decoded.first;
}

Result<UserRecord> UserStore::Get(const std::string& name) {
  STOKE_ASSIGN_OR_RETURN(auto text, store_.Get(kNamespace, name));
  if (!text) return Err(Status::NotFound("no user " + name));
  STOKE_ASSIGN_OR_RETURN(auto decoded, Decode(name, *text));
  return decoded.first;
}

Result<std::vector<UserRecord>> UserStore::List() {
  STOKE_ASSIGN_OR_RETURN(auto rows, store_.List(kNamespace));
  std::vector<UserRecord> out;
  for (const auto& [name, text] : rows) {
    STOKE_ASSIGN_OR_RETURN(auto decoded, Decode(name, text));
    out.push_back(decoded.first);
  }
  return out;
}

}  // namespace stoke::wmla
