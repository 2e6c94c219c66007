#include "wmla/dlicmd_args.h"

#include <charconv>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "api/json_reader.h"

namespace stoke::wmla {

Result<std::vector<std::string>> TokenizeArgs(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos) return Err(Status::InvalidArgument("args: unclosed ' quote", "args"));
      word.append(text.substr(i + 1, end - i - 1));
      in_word = true;
      i = end + 1;
    } else if (c == '"') {
      in_word = true;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char d = text[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < text.size() && std::string_view("\"\\$`").find(text[i + 1]) != std::string_view::npos) {
          word.push_back(text[i + 1]);
          i += 2;
          continue;
        }
        word.push_back(d);
        ++i;
      }
      if (!closed) return Err(Status::InvalidArgument("args: unclosed \" quote", "args"));
    } else if (c == '\\') {
      if (i + 1 >= text.size()) return Err(Status::InvalidArgument("args: ends with a lone backslash", "args"));
      word.push_back(text[i + 1]);
      in_word = true;
      i += 2;
    } else {
      word.push_back(c);
      in_word = true;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

namespace {

enum class Flag {
  kFramework, kModelMain, kModelDir, kNumWorker, kDeviceType, kDeviceNum, kGpuPerWorker, kMemory, kPriority,
  kAppName, kDatastoreMeta, kDataSource, kMsdEnv, kEdtOptions, kIgnoredWithValue,
};

// Flags that take a value. WMLA flags without meaning here are accepted and ignored, so existing
// command lines keep working.
const std::map<std::string, Flag, std::less<>>& ValueFlags() {
  static const auto* flags = new std::map<std::string, Flag, std::less<>>{
      {"--exec-start", Flag::kFramework},
      {"--model-main", Flag::kModelMain},
      {"--model-dir", Flag::kModelDir},
      {"--numWorker", Flag::kNumWorker},
      {"--workerDeviceType", Flag::kDeviceType},
      {"--workerDeviceNum", Flag::kDeviceNum},
      {"--gpuPerWorker", Flag::kGpuPerWorker},
      {"--workerMemory", Flag::kMemory},
      {"--msd-priority", Flag::kPriority},
      {"--appName", Flag::kAppName},
      {"--cs-datastore-meta", Flag::kDatastoreMeta},
      {"--data-source", Flag::kDataSource},
      {"--msd-env", Flag::kMsdEnv},
      {"--edt-options", Flag::kEdtOptions},
      {"--consumer", Flag::kIgnoredWithValue},
      {"--conda-env-name", Flag::kIgnoredWithValue},
      {"--numPs", Flag::kIgnoredWithValue},
      {"--driverDeviceType", Flag::kIgnoredWithValue},
      {"--driverDeviceNum", Flag::kIgnoredWithValue},
      {"--driverMemory", Flag::kIgnoredWithValue},
      {"--workerCPULimit", Flag::kIgnoredWithValue},
      {"--workerMemoryLimit", Flag::kIgnoredWithValue},
      {"--python-version", Flag::kIgnoredWithValue},
      {"--ig", Flag::kIgnoredWithValue},
      {"--msd-attr", Flag::kIgnoredWithValue},
      {"--msd-image-name", Flag::kIgnoredWithValue},
      {"--msd-task0-node-selector", Flag::kIgnoredWithValue},
      {"--msd-task12n-node-selector", Flag::kIgnoredWithValue},
      {"--msd-pending-timeout", Flag::kIgnoredWithValue},
      {"--lsf-gpu-syntax", Flag::kIgnoredWithValue},
      {"--msd-podaffinity-rule", Flag::kIgnoredWithValue},
      {"--msd-pack-id", Flag::kIgnoredWithValue},
      {"--cs-rmq-meta", Flag::kIgnoredWithValue},
      {"--cs-url-meta", Flag::kIgnoredWithValue},
      {"--cs-url-bearer", Flag::kIgnoredWithValue},
      {"--rest-host", Flag::kIgnoredWithValue},
      {"--rest-port", Flag::kIgnoredWithValue},
      {"--pbmodel-name", Flag::kIgnoredWithValue},
      {"--pbmodel-cmd", Flag::kIgnoredWithValue},
  };
  return *flags;
}

Result<int> ParseCount(const std::string& flag, const std::string& value, int min, int max) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  std::string field = "args." + flag;
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    return Err(Status::InvalidArgument(flag + " must be an integer, got \"" + value + "\"", field));
  }
  if (v < min || v > max) {
    return Err(Status::InvalidArgument(flag + " must be between " + std::to_string(min) + " and " + std::to_string(max),
                                       field));
  }
  return v;
}

// "k1=v1,k2=v2" -> value of `key`.
std::string KeyValue(std::string_view list, std::string_view key) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view item = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    size_t eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == key) return std::string(item.substr(eq + 1));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return {};
}

Status Apply(ExecArgs& out, Flag flag, const std::string& name, const std::string& value) {
  std::string field = "args." + name;
  switch (flag) {
    case Flag::kFramework: out.framework = value; break;
    case Flag::kModelMain: out.model_main = value; break;
    case Flag::kModelDir: out.model_dir = value; break;
    case Flag::kNumWorker: {
      STOKE_ASSIGN_OR_RETURN(out.num_worker, ParseCount(name, value, 1, 1024));
      break;
    }
    case Flag::kDeviceType:
      if (value != "cpu" && value != "gpu") {
        return Status::InvalidArgument(name + " must be cpu or gpu, got \"" + value + "\"", field);
      }
      out.device_type = value;
      break;
    case Flag::kDeviceNum:
    case Flag::kGpuPerWorker: {
      STOKE_ASSIGN_OR_RETURN(out.device_num, ParseCount(name, value, 0, 64));
      break;
    }
    case Flag::kMemory: {
      auto bytes = api::ParseByteSize(nlohmann::json(value), field);
      if (!bytes) return Status::InvalidArgument(name + " must be a size such as 4G or 512M, got \"" + value + "\"", field);
      out.worker_memory = *bytes;
      break;
    }
    case Flag::kPriority: {
      STOKE_ASSIGN_OR_RETURN(out.priority, ParseCount(name, value, -1000, 1000));
      break;
    }
    case Flag::kAppName: out.app_name = value; break;
    case Flag::kDatastoreMeta: out.datastore_meta = value; break;
    case Flag::kDataSource: out.data_source = value; break;
    case Flag::kMsdEnv: {
      static const std::regex kKey("[A-Za-z_][A-Za-z0-9_]*");
      size_t eq = value.find('=');
      std::string key = value.substr(0, eq);
      if (eq == std::string::npos || !std::regex_match(key, kKey)) {
        return Status::InvalidArgument(name + " takes NAME=VALUE, got \"" + value + "\"", field);
      }
      if (key.starts_with("STOKE_")) return Status::InvalidArgument("STOKE_* variables are reserved", field);
      out.env[key] = value.substr(eq + 1);
      break;
    }
    case Flag::kEdtOptions: {
      std::string max_workers = KeyValue(value, "maxWorkers");
      if (!max_workers.empty()) {
        STOKE_ASSIGN_OR_RETURN(out.num_worker, ParseCount(name, max_workers, 1, 1024));
      }
      break;
    }
    case Flag::kIgnoredWithValue: out.ignored.push_back(name); break;
  }
  return Status::Ok();
}

}  // namespace

Result<ExecArgs> ParseExecArgs(const std::vector<std::string>& words) {
  ExecArgs out;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--") {
      out.user_args.insert(out.user_args.end(), words.begin() + static_cast<std::ptrdiff_t>(i) + 1, words.end());
      break;
    }
    if (w == "--user-cmd") {
      out.user_cmd = true;
      continue;
    }
    std::string name = w;
    std::optional<std::string> inline_value;
    if (size_t eq = w.find('='); w.starts_with("--") && eq != std::string::npos) {
      name = w.substr(0, eq);
      inline_value = w.substr(eq + 1);
    }
    auto it = ValueFlags().find(name);
    if (it == ValueFlags().end()) {
      out.user_args.push_back(w);  // the training script's own argument
      continue;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= words.size() || words[i + 1] == "--") {
        return Err(Status::InvalidArgument(name + " needs a value", "args." + name));
      }
      value = words[++i];
    }
    STOKE_RETURN_IF_ERROR(Apply(out, it->second, name, value));
  }
  return out;
}

Result<ExecArgs> ParseExecArgs(std::string_view text) {
  STOKE_ASSIGN_OR_RETURN(auto words, TokenizeArgs(text));
  return ParseExecArgs(words);
}

std::string DatastoreDataPath(std::string_view meta) { return KeyValue(meta, "data_path"); }

}  // namespace stoke::wmla
