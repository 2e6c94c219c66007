#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

namespace stoke::hpo {

// One hyperparameter value: an integer, a real number or a string (categorical choices may be any).
using ParamValue = std::variant<int64_t, double, std::string>;
// A full assignment, keyed by parameter name (sorted, so iteration order is deterministic).
using ParamSample = std::map<std::string, ParamValue>;

std::string ParamValueToString(const ParamValue& value);

enum class ParamKind { kFloat, kInt, kCategorical, kFixed };
enum class Scale { kLinear, kLog };

// One dimension of the space. Fill the fields that matter for `kind`:
//   kFloat:       low, high, scale; optional step (> 0, linear only) quantizes values to low + k*step;
//                 grid_points (>= 2) or step tells the grid sampler how to enumerate it.
//   kInt:         low, high (integers), scale; optional integer step > 0 (none = 1; log scale: 1 only).
//   kCategorical: choices (non-empty, no duplicates).
//   kFixed:       value.
// Plain data: the api layer fills it from JSON/YAML, Validate() checks it.
struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::kFloat;
  double low = 0;
  double high = 0;
  Scale scale = Scale::kLinear;
  std::optional<double> step;  // none = continuous (float) / every integer (int)
  int grid_points = 0;  // floats only, for grid search
  std::vector<ParamValue> choices;
  ParamValue value;  // kFixed

  static ParamSpec Float(std::string name, double low, double high, Scale scale = Scale::kLinear,
                         std::optional<double> step = std::nullopt);
  static ParamSpec Int(std::string name, int64_t low, int64_t high, Scale scale = Scale::kLinear, int64_t step = 1);
  static ParamSpec Categorical(std::string name, std::vector<ParamValue> choices);
  static ParamSpec Fixed(std::string name, ParamValue value);
};

// The space searched: an ordered list of dimensions. The order fixes the grid enumeration order.
struct SearchSpace {
  std::vector<ParamSpec> params;
};

// Checks the space. Errors are kInvalidArgument with `field` = "<param name>.<attribute>"
// (or "params" for space-level problems) and a message that says what is wrong.
Status Validate(const SearchSpace& space);

// Internal coordinates used by the samplers: one double per parameter.
//   float/int: the value (its log for log scale); categorical: the choice index; fixed: 0.
// Bounds of the coordinate for numeric params; ints widen by half a step on each side so that
// rounding gives every integer the same mass (log ints: log(low - 0.5) .. log(high + 0.5)).
struct CoordinateBounds {
  double low = 0;
  double high = 0;
};
CoordinateBounds InternalBounds(const ParamSpec& spec);

// Maps an internal coordinate to a legal value (rounds ints and steps, clamps to bounds).
ParamValue Decode(const ParamSpec& spec, double coordinate);
// The inverse; fails when the value does not fit the spec.
Result<double> Encode(const ParamSpec& spec, const ParamValue& value);
// Encodes a whole sample in space order.
Result<std::vector<double>> EncodeSample(const SearchSpace& space, const ParamSample& sample);

// Number of distinct grid values of one parameter for grid search, or an error naming the field
// (a continuous float without grid_points or step).
Result<int64_t> GridCount(const ParamSpec& spec);
// The i-th grid value (0 <= i < GridCount).
ParamValue GridValue(const ParamSpec& spec, int64_t index);

}  // namespace stoke::hpo
