#pragma once

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

// Number reading shared by the parsers: metric files written by Python often hold numbers
// as strings ("0.9", "3"). Internal to stoke_ingest. All functions are thread-safe.
namespace stoke::ingest {

// A finite double from a JSON number or a numeric string (surrounding blanks allowed);
// nullopt for anything else (words, booleans, NaN, infinities, objects).
std::optional<double> ReadNumber(const nlohmann::json& value);

// An integral step from a JSON number or numeric string ("3", 3, 3.0, "3.0");
// nullopt when missing, non-numeric or not a whole number.
std::optional<int64_t> ReadStep(const nlohmann::json& value);

}  // namespace stoke::ingest
