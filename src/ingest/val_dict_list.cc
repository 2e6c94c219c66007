#include "ingest/val_dict_list.h"

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ingest/json_number.h"

namespace stoke::ingest {

using nlohmann::json;

namespace {

std::optional<int64_t> EntryStep(const json& entry) {
  for (const char* key : {"steps", "step"}) {
    if (auto it = entry.find(key); it != entry.end()) {
      if (std::optional<int64_t> step = ReadStep(*it)) return step;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<IngestedPoint>> ParseValDictList(std::string_view json_text) {
  json doc = json::parse(json_text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Err(Status::InvalidArgument("val_dict_list.json is not valid JSON"));
  if (doc.is_object()) doc = json::array({std::move(doc)});
  if (!doc.is_array()) return Err(Status::InvalidArgument("val_dict_list.json must hold a list of objects"));
  std::vector<IngestedPoint> points;
  for (size_t index = 0; index < doc.size(); ++index) {
    const json& entry = doc[index];
    if (!entry.is_object()) continue;
    const int64_t step = EntryStep(entry).value_or(static_cast<int64_t>(index));
    for (const auto& [key, value] : entry.items()) {
      if (key == "steps" || key == "step" || key.empty()) continue;
      if (std::optional<double> number = ReadNumber(value)) points.push_back(IngestedPoint{step, key, *number});
    }
  }
  return points;
}

}  // namespace stoke::ingest
