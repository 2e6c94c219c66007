#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace stoke::api {

// Parses YAML text into the JSON value model: plain scalars become numbers, booleans or null when
// they read as such; quoted scalars stay strings. Errors give the line.
Result<nlohmann::json> ParseYamlText(std::string_view text);

}  // namespace stoke::api
