#include "api/json_reader.h"

#include <cctype>
#include <cmath>
#include <limits>

#include "common/byte_size.h"

namespace stoke::api {

using nlohmann::json;

namespace {
std::string TypeName(const json& v) { return v.type_name(); }
}  // namespace

Result<JsonObjectReader> JsonObjectReader::Make(const json& value, std::string path) {
  if (!value.is_object()) {
    return Err(Status::InvalidArgument(
        (path.empty() ? std::string("request body") : path) + " must be a JSON object, got " + TypeName(value),
        path));
  }
  return JsonObjectReader(value, std::move(path));
}

std::string JsonObjectReader::FieldPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const json* JsonObjectReader::Find(std::string_view key) {
  seen_.insert(std::string(key));
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return nullptr;
  return &*it;
}

const json* JsonObjectReader::Raw(std::string_view key) { return Find(key); }

Result<std::optional<std::string>> JsonObjectReader::String(std::string_view key, size_t max_len) {
  const json* v = Find(key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) {
    return Err(Status::InvalidArgument(FieldPath(key) + " must be a string, got " + TypeName(*v), FieldPath(key)));
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_len) {
    return Err(Status::InvalidArgument(
        FieldPath(key) + " is too long (" + std::to_string(s.size()) + " > " + std::to_string(max_len) + ")",
        FieldPath(key)));
  }
  return std::optional<std::string>(s);
}

Result<std::optional<int64_t>> JsonObjectReader::Int(std::string_view key, int64_t min, int64_t max) {
  const json* v = Find(key);
  if (v == nullptr) return std::optional<int64_t>();
  int64_t n = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      n = std::numeric_limits<int64_t>::max();
    } else {
      n = v->get<int64_t>();
    }
  } else if (v->is_number_float() && std::isfinite(v->get<double>()) && std::floor(v->get<double>()) == v->get<double>() &&
             std::fabs(v->get<double>()) < 9e15) {
    n = static_cast<int64_t>(v->get<double>());
  } else {
    return Err(Status::InvalidArgument(FieldPath(key) + " must be an integer, got " + TypeName(*v), FieldPath(key)));
  }
  if (n < min || n > max) {
    return Err(Status::InvalidArgument(FieldPath(key) + " must be between " + std::to_string(min) + " and " +
                                           std::to_string(max) + ", got " + std::to_string(n),
                                       FieldPath(key)));
  }
  return std::optional<int64_t>(n);
}

Result<std::optional<double>> JsonObjectReader::Number(std::string_view key, double min, double max) {
  const json* v = Find(key);
  if (v == nullptr) return std::optional<double>();
  if (!v->is_number()) {
    return Err(Status::InvalidArgument(FieldPath(key) + " must be a number, got " + TypeName(*v), FieldPath(key)));
  }
  double d = v->get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    return Err(Status::InvalidArgument(
        FieldPath(key) + " must be between " + json(min).dump() + " and " + json(max).dump(), FieldPath(key)));
  }
  return std::optional<double>(d);
}

Result<std::optional<bool>> JsonObjectReader::Bool(std::string_view key) {
  const json* v = Find(key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_boolean()) {
    return Err(Status::InvalidArgument(FieldPath(key) + " must be true or false, got " + TypeName(*v), FieldPath(key)));
  }
  return std::optional<bool>(v->get<bool>());
}

Result<std::optional<std::vector<std::string>>> JsonObjectReader::StringArray(std::string_view key, size_t max_items,
                                                                              size_t max_len) {
  const json* v = Find(key);
  if (v == nullptr) return std::optional<std::vector<std::string>>();
  if (!v->is_array()) {
    return Err(Status::InvalidArgument(FieldPath(key) + " must be an array of strings, got " + TypeName(*v),
                                       FieldPath(key)));
  }
  if (v->size() > max_items) {
    return Err(Status::InvalidArgument(FieldPath(key) + " has too many items (max " + std::to_string(max_items) + ")",
                                       FieldPath(key)));
  }
  std::vector<std::string> out;
  out.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    const json& item = (*v)[i];
    std::string item_path = FieldPath(key) + "." + std::to_string(i);
    if (!item.is_string()) {
      return Err(Status::InvalidArgument(item_path + " must be a string, got " + TypeName(item), item_path));
    }
    const auto& s = item.get_ref<const std::string&>();
    if (s.size() > max_len) return Err(Status::InvalidArgument(item_path + " is too long", item_path));
    if (s.find('\0') != std::string::npos) {
      return Err(Status::InvalidArgument(item_path + " must not contain NUL characters", item_path));
    }
    out.push_back(s);
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<JsonObjectReader>> JsonObjectReader::Object(std::string_view key) {
  const json* v = Find(key);
  if (v == nullptr) return std::optional<JsonObjectReader>();
  STOKE_ASSIGN_OR_RETURN(JsonObjectReader r, Make(*v, FieldPath(key)));
  return std::optional<JsonObjectReader>(std::move(r));
}

Status JsonObjectReader::Finish() const {
  for (const auto& [key, _] : value_->items()) {
    if (!seen_.contains(key)) {
      return Status::InvalidArgument("unknown field " + FieldPath(key), FieldPath(key));
    }
  }
  return Status::Ok();
}

Result<json> ParseJsonText(std::string_view text) {
  json value;
  try {
    value = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return Err(Status::InvalidArgument(std::string("malformed JSON: ") + e.what()));
  } catch (const json::exception& e) {  // e.g. a number too large for a double (1e999)
    return Err(Status::InvalidArgument(std::string("unacceptable JSON: ") + e.what()));
  }
  // Strings are stored and echoed back: reject invalid UTF-8 now rather than fail when answering.
  try {
    (void)value.dump();
  } catch (const json::type_error&) {
    return Err(Status::InvalidArgument("request body contains a string that is not valid UTF-8"));
  }
  return value;
}

Result<int64_t> ParseByteSize(const json& value, const std::string& field) {
  if (value.is_number_integer()) {
    int64_t n = value.is_number_unsigned() && value.get<uint64_t>() > (1ULL << 62) ? -1 : value.get<int64_t>();
    if (n < 0) return Err(Status::InvalidArgument(field + " must be >= 0 bytes", field));
    return n;
  }
  if (!value.is_string()) {
    return Err(Status::InvalidArgument(field + " must be a byte count or a size like \"4G\", got " + value.type_name(),
                                       field));
  }
  auto bytes = ::stoke::ParseByteSize(value.get_ref<const std::string&>());
  if (!bytes) return Err(Status::InvalidArgument(field + ": " + bytes.error().message() + " (e.g. 512M, 4G)", field));
  return *bytes;
}

}  // namespace stoke::api
