#include "api/train_flags.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <regex>

namespace stoke::api {

using nlohmann::json;

namespace {

enum class Kind { kPath, kText, kNumber, kInt, kBool, kChoice };

struct TrainKey {
  const char* key;
  Kind kind;
  double min = 0;
  double max = 0;
  std::vector<std::string> choices = {};
};

const std::vector<TrainKey>& Keys() {
  static const std::vector<TrainKey> keys = {
      {"model", Kind::kPath},
      {"data", Kind::kPath},
      {"val", Kind::kPath},
      {"labels", Kind::kPath},
      {"x_key", Kind::kText},
      {"y_key", Kind::kText},
      {"label_column", Kind::kText},
      {"loss", Kind::kChoice, 0, 0, {"cross_entropy", "mse", "bce_with_logits", "module"}},
      {"optimizer", Kind::kChoice, 0, 0, {"sgd", "adam", "adamw"}},
      {"lr_schedule", Kind::kChoice, 0, 0, {"constant", "step", "cosine"}},
      {"lr", Kind::kNumber, 0, 1e6},
      {"momentum", Kind::kNumber, 0, 1},
      {"weight_decay", Kind::kNumber, 0, 1e6},
      {"beta1", Kind::kNumber, 0, 1},
      {"beta2", Kind::kNumber, 0, 1},
      {"eps", Kind::kNumber, 0, 1},
      {"gamma", Kind::kNumber, 0, 1e6},
      {"min_lr", Kind::kNumber, 0, 1e6},
      {"bucket_mb", Kind::kNumber, 0.001, 4096},
      {"warmup_steps", Kind::kInt, 0, 1e12},
      {"step_size", Kind::kInt, 1, 1e12},
      {"global_batch", Kind::kInt, 1, 1e9},
      {"max_micro_batch", Kind::kInt, 0, 1e9},
      {"epochs", Kind::kInt, 1, 1e9},
      {"max_steps", Kind::kInt, 0, 1e12},
      {"seed", Kind::kInt, 0, 9e18},
      {"threads", Kind::kInt, 0, 4096},
      {"collective_timeout_ms", Kind::kInt, 100, 3.6e6},
      {"nesterov", Kind::kBool},
      {"shuffle", Kind::kBool},
      {"jit_optimize", Kind::kBool},
  };
  return keys;
}

bool IsPlaceholder(const std::string& s) {
  static const std::regex kPlaceholder(R"(\{[A-Za-z_][A-Za-z0-9_.]*\})");
  return std::regex_match(s, kPlaceholder);
}

std::string Flag(const std::string& key) {
  std::string flag = "--" + key;
  for (char& c : flag) c = c == '_' ? '-' : c;
  return flag;
}

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string Choices(const std::vector<std::string>& choices) {
  std::string out;
  for (const auto& c : choices) out += (out.empty() ? "" : ", ") + c;
  return out;
}

// Appends the flag(s) for one key, or says what is wrong with its value.
Status AppendFlag(const TrainKey& k, const json& value, std::vector<std::string>& out) {
  const std::string field = std::string("train.") + k.key;
  const std::string flag = Flag(k.key);
  auto wrong = [&](const std::string& want) {
    return Status::InvalidArgument(field + " must be " + want + ", got " + value.dump(), field);
  };
  const bool placeholder = value.is_string() && IsPlaceholder(value.get<std::string>());
  switch (k.kind) {
    case Kind::kPath:
    case Kind::kText: {
      if (!value.is_string() || value.get_ref<const std::string&>().empty()) return wrong("a non-empty string");
      const auto& s = value.get_ref<const std::string&>();
      if (s.size() > 4096 || s.find('\0') != std::string::npos) return wrong("a path of at most 4096 bytes");
      out.insert(out.end(), {flag, s});
      return Status::Ok();
    }
    case Kind::kChoice: {
      if (!value.is_string()) return wrong("one of " + Choices(k.choices));
      const auto& s = value.get_ref<const std::string&>();
      if (!placeholder && std::find(k.choices.begin(), k.choices.end(), s) == k.choices.end()) {
        return wrong("one of " + Choices(k.choices));
      }
      out.insert(out.end(), {flag, s});
      return Status::Ok();
    }
    case Kind::kNumber:
    case Kind::kInt: {
      if (placeholder) {
        out.insert(out.end(), {flag, value.get<std::string>()});
        return Status::Ok();
      }
      const bool is_int = k.kind == Kind::kInt;
      if (!value.is_number() || (is_int && !value.is_number_integer())) {
        return wrong(std::string(is_int ? "an integer" : "a number") + " (or an HPO placeholder such as \"{" + k.key +
                     "}\")");
      }
      const double v = value.get<double>();
      if (!std::isfinite(v) || v < k.min || v > k.max) {
        return wrong("between " + FormatNumber(k.min) + " and " + FormatNumber(k.max));
      }
      out.insert(out.end(), {flag, is_int ? std::to_string(value.get<int64_t>()) : FormatNumber(v)});
      return Status::Ok();
    }
    case Kind::kBool: {
      if (!value.is_boolean()) return wrong("true or false");
      const bool on = value.get<bool>();
      if (std::string(k.key) == "shuffle") {
        if (!on) out.push_back("--no-shuffle");
      } else if (on) {
        out.push_back(flag);
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> TrainFlagsFromJson(const json& train) {
  if (!train.is_object()) {
    return Err(Status::InvalidArgument("train must be an object, got " + std::string(train.type_name()), "train"));
  }
  for (const char* required : {"model", "data"}) {
    if (!train.contains(required)) {
      return Err(Status::InvalidArgument(std::string("train.") + required + " is required", std::string("train.") + required));
    }
  }
  std::vector<std::string> flags;
  for (const auto& [key, value] : train.items()) {
    auto it = std::find_if(Keys().begin(), Keys().end(), [&](const TrainKey& k) { return key == k.key; });
    if (it == Keys().end()) {
      return Err(Status::InvalidArgument("train." + key + " is not a training option (see docs/api.md)", "train." + key));
    }
    STOKE_RETURN_IF_ERROR(AppendFlag(*it, value, flags));
  }
  return flags;
}

}  // namespace stoke::api
