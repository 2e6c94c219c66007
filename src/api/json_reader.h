#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace stoke::api {

// Reads one JSON object field by field with strict typing. Every error names the field by its
// dotted path ("resources.gpus"); Finish() rejects keys nobody asked for, so typos are errors
// rather than silently ignored settings. Not thread-safe; one reader per request.
class JsonObjectReader {
 public:
  // `path` is the prefix for field names ("" at the top level).
  static Result<JsonObjectReader> Make(const nlohmann::json& value, std::string path = "");

  Result<std::optional<std::string>> String(std::string_view key, size_t max_len = 4096);
  Result<std::optional<int64_t>> Int(std::string_view key, int64_t min, int64_t max);
  Result<std::optional<double>> Number(std::string_view key, double min, double max);
  Result<std::optional<bool>> Bool(std::string_view key);
  Result<std::optional<std::vector<std::string>>> StringArray(std::string_view key, size_t max_items,
                                                               size_t max_len = 65536);
  // A nested object (or nullopt when absent); call Finish() on it too.
  Result<std::optional<JsonObjectReader>> Object(std::string_view key);
  // Raw access for fields with their own parser (marks the key as known).
  const nlohmann::json* Raw(std::string_view key);

  // Fails on the first key that no getter consumed.
  Status Finish() const;

  std::string FieldPath(std::string_view key) const;

 private:
  JsonObjectReader(const nlohmann::json& value, std::string path) : value_(&value), path_(std::move(path)) {}
  const nlohmann::json* Find(std::string_view key);

  const nlohmann::json* value_;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
};

// Parses text as JSON; errors say where the syntax broke.
Result<nlohmann::json> ParseJsonText(std::string_view text);

// Memory sizes: 1048576, "512M", "4G", "1.5GiB", "100KB" (powers of 1024).
Result<int64_t> ParseByteSize(const nlohmann::json& value, const std::string& field);

}  // namespace stoke::api
