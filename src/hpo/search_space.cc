#include "hpo/search_space.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "hpo/text_format.h"

namespace stoke::hpo {
namespace {

Status Invalid(const ParamSpec& spec, std::string_view attribute, std::string message) {
  return Status::InvalidArgument("parameter '" + spec.name + "': " + message,
                                 spec.name + "." + std::string(attribute));
}

bool IsInteger(double v) { return std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15; }

// An int parameter's step; none means 1.
double IntStep(const ParamSpec& spec) { return spec.step.value_or(1.0); }

double RoundToStep(double value, double low, double step) {
  return low + std::round((value - low) / step) * step;
}

}  // namespace

std::string ParamValueToString(const ParamValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return Num(*d);
  return std::get<std::string>(value);
}

ParamSpec ParamSpec::Float(std::string name, double low, double high, Scale scale, std::optional<double> step) {
  ParamSpec s;
  s.name = std::move(name);
  s.kind = ParamKind::kFloat;
  s.low = low;
  s.high = high;
  s.scale = scale;
  s.step = step;
  return s;
}

ParamSpec ParamSpec::Int(std::string name, int64_t low, int64_t high, Scale scale, int64_t step) {
  ParamSpec s;
  s.name = std::move(name);
  s.kind = ParamKind::kInt;
  s.low = static_cast<double>(low);
  s.high = static_cast<double>(high);
  s.scale = scale;
  s.step = static_cast<double>(step);  // validated: must be > 0
  return s;
}

ParamSpec ParamSpec::Categorical(std::string name, std::vector<ParamValue> choices) {
  ParamSpec s;
  s.name = std::move(name);
  s.kind = ParamKind::kCategorical;
  s.choices = std::move(choices);
  return s;
}

ParamSpec ParamSpec::Fixed(std::string name, ParamValue value) {
  ParamSpec s;
  s.name = std::move(name);
  s.kind = ParamKind::kFixed;
  s.value = std::move(value);
  return s;
}

Status Validate(const SearchSpace& space) {
  if (space.params.empty()) return Status::InvalidArgument("the search space has no parameters", "params");
  std::set<std::string> names;
  for (const ParamSpec& spec : space.params) {
    if (spec.name.empty()) return Status::InvalidArgument("a parameter has an empty name", "params");
    if (!names.insert(spec.name).second) {
      return Status::InvalidArgument("duplicate parameter name '" + spec.name + "'", spec.name);
    }
    switch (spec.kind) {
      case ParamKind::kFloat:
      case ParamKind::kInt: {
        if (!std::isfinite(spec.low)) return Invalid(spec, "min", "min is not a finite number");
        if (!std::isfinite(spec.high)) return Invalid(spec, "max", "max is not a finite number");
        if (spec.low > spec.high) {
          return Invalid(spec, "min", "min (" + Num(spec.low) + ") is greater than max (" + Num(spec.high) + ")");
        }
        if (spec.scale == Scale::kLog && spec.low <= 0) {
          return Invalid(spec, "min", "log scale needs min > 0, got " + Num(spec.low));
        }
        if (spec.step && !(*spec.step > 0 && std::isfinite(*spec.step))) {
          return Invalid(spec, "step", "step must be > 0, got " + Num(*spec.step));
        }
        if (spec.kind == ParamKind::kInt) {
          if (!IsInteger(spec.low)) return Invalid(spec, "min", "min of an int parameter is not an integer");
          if (!IsInteger(spec.high)) return Invalid(spec, "max", "max of an int parameter is not an integer");
          if (!IsInteger(IntStep(spec))) {
            return Invalid(spec, "step", "step of an int parameter must be an integer > 0, got " + Num(IntStep(spec)));
          }
          if (spec.scale == Scale::kLog && IntStep(spec) != 1) {
            return Invalid(spec, "step", "log-scale int parameters take no step other than 1");
          }
        } else {
          if (spec.step && spec.scale == Scale::kLog) {
            return Invalid(spec, "step", "log-scale float parameters take no step");
          }
          if (spec.grid_points < 0 || spec.grid_points == 1) {
            return Invalid(spec, "grid_points", "grid_points must be >= 2, got " + std::to_string(spec.grid_points));
          }
        }
        break;
      }
      case ParamKind::kCategorical: {
        if (spec.choices.empty()) return Invalid(spec, "choices", "choices is empty");
        std::set<ParamValue> seen;
        for (const ParamValue& c : spec.choices) {
          if (const auto* d = std::get_if<double>(&c); d != nullptr && !std::isfinite(*d)) {
            return Invalid(spec, "choices", "a choice is not a finite number");
          }
          if (!seen.insert(c).second) {
            return Invalid(spec, "choices", "duplicate choice '" + ParamValueToString(c) + "'");
          }
        }
        break;
      }
      case ParamKind::kFixed:
        if (const auto* d = std::get_if<double>(&spec.value); d != nullptr && !std::isfinite(*d)) {
          return Invalid(spec, "value", "the fixed value is not a finite number");
        }
        break;
    }
  }
  return Status::Ok();
}

CoordinateBounds InternalBounds(const ParamSpec& spec) {
  switch (spec.kind) {
    case ParamKind::kFloat:
      if (spec.scale == Scale::kLog) return {std::log(spec.low), std::log(spec.high)};
      if (spec.step) return {spec.low - 0.5 * *spec.step, spec.high + 0.5 * *spec.step};
      return {spec.low, spec.high};
    case ParamKind::kInt:
      if (spec.scale == Scale::kLog) return {std::log(spec.low - 0.5), std::log(spec.high + 0.5)};
      return {spec.low - 0.5 * IntStep(spec), spec.high + 0.5 * IntStep(spec)};
    case ParamKind::kCategorical:
      return {0, static_cast<double>(spec.choices.size() - 1)};
    case ParamKind::kFixed:
      return {0, 0};
  }
  return {0, 0};
}

ParamValue Decode(const ParamSpec& spec, double c) {
  switch (spec.kind) {
    case ParamKind::kFloat: {
      double v = spec.scale == Scale::kLog ? std::exp(c) : c;
      if (spec.step) {
        // The top grid point is the last low + k*step that does not pass high.
        const double step = *spec.step;
        const double top = spec.low + std::floor((spec.high - spec.low) / step + 1e-9) * step;
        v = std::clamp(RoundToStep(v, spec.low, step), spec.low, top);
      }
      return std::clamp(v, spec.low, spec.high);
    }
    case ParamKind::kInt: {
      double v = spec.scale == Scale::kLog ? std::exp(c) : c;
      const double step = IntStep(spec);
      const double top = spec.low + std::floor((spec.high - spec.low) / step) * step;
      v = std::clamp(RoundToStep(v, spec.low, step), spec.low, top);
      return static_cast<int64_t>(std::llround(v));
    }
    case ParamKind::kCategorical: {
      const auto n = static_cast<int64_t>(spec.choices.size());
      const int64_t i = std::clamp<int64_t>(std::llround(c), 0, n - 1);
      return spec.choices[static_cast<size_t>(i)];
    }
    case ParamKind::kFixed:
      return spec.value;
  }
  return spec.value;
}

Result<double> Encode(const ParamSpec& spec, const ParamValue& value) {
  auto bad = [&](std::string why) { return Err(Invalid(spec, "value", std::move(why))); };
  switch (spec.kind) {
    case ParamKind::kFloat:
    case ParamKind::kInt: {
      double v;
      if (const auto* i = std::get_if<int64_t>(&value)) {
        v = static_cast<double>(*i);
      } else if (const auto* d = std::get_if<double>(&value)) {
        v = *d;
      } else {
        return bad("expected a number");
      }
      if (!(v >= spec.low && v <= spec.high)) return bad(Num(v) + " is outside [" + Num(spec.low) + ", " + Num(spec.high) + "]");
      return spec.scale == Scale::kLog ? std::log(v) : v;
    }
    case ParamKind::kCategorical: {
      auto it = std::find(spec.choices.begin(), spec.choices.end(), value);
      if (it == spec.choices.end()) return bad("'" + ParamValueToString(value) + "' is not one of the choices");
      return static_cast<double>(it - spec.choices.begin());
    }
    case ParamKind::kFixed:
      return 0.0;
  }
  return 0.0;
}

Result<std::vector<double>> EncodeSample(const SearchSpace& space, const ParamSample& sample) {
  std::vector<double> out;
  out.reserve(space.params.size());
  for (const ParamSpec& spec : space.params) {
    auto it = sample.find(spec.name);
    if (it == sample.end()) return Err(Status::InvalidArgument("missing parameter '" + spec.name + "'", spec.name));
    STOKE_ASSIGN_OR_RETURN(double c, Encode(spec, it->second));
    out.push_back(c);
  }
  return out;
}

Result<int64_t> GridCount(const ParamSpec& spec) {
  switch (spec.kind) {
    case ParamKind::kFloat:
      if (spec.grid_points >= 2) return spec.grid_points;
      if (spec.step) return static_cast<int64_t>(std::floor((spec.high - spec.low) / *spec.step + 1e-9)) + 1;
      if (spec.low == spec.high) return 1;
      return Err(Invalid(spec, "grid_points", "grid search needs grid_points or step for a float parameter"));
    case ParamKind::kInt:
      return static_cast<int64_t>(std::floor((spec.high - spec.low) / IntStep(spec))) + 1;
    case ParamKind::kCategorical:
      return static_cast<int64_t>(spec.choices.size());
    case ParamKind::kFixed:
      return 1;
  }
  return 1;
}

ParamValue GridValue(const ParamSpec& spec, int64_t index) {
  switch (spec.kind) {
    case ParamKind::kFloat: {
      if (spec.grid_points >= 2) {
        if (index == 0) return spec.low;  // exact endpoints: exp(log(x)) may miss by an ulp
        if (index == spec.grid_points - 1) return spec.high;
        const double t = static_cast<double>(index) / (spec.grid_points - 1);
        const double v = spec.scale == Scale::kLog
                             ? std::exp(std::log(spec.low) + t * (std::log(spec.high) - std::log(spec.low)))
                             : spec.low + t * (spec.high - spec.low);
        return std::clamp(v, spec.low, spec.high);
      }
      if (spec.step) return std::min(spec.high, spec.low + static_cast<double>(index) * *spec.step);
      return spec.low;
    }
    case ParamKind::kInt:
      return static_cast<int64_t>(spec.low) + index * static_cast<int64_t>(IntStep(spec));
    case ParamKind::kCategorical:
      return spec.choices[static_cast<size_t>(index)];
    case ParamKind::kFixed:
      return spec.value;
  }
  return spec.value;
}

}  // namespace stoke::hpo
