#include "cli/train_request.h"

#include <charconv>
#include <filesystem>

namespace stoke::cli {

using nlohmann::json;

namespace {

Result<int> ParsePositive(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1) {
    return Err(Status::InvalidArgument("--workers expects N or MIN:MAX with positive integers, got \"" +
                                           std::string(text) + "\"",
                                       "workers"));
  }
  return value;
}

// "lr=0.1" → ("lr", 0.1); "optimizer=adam" → ("optimizer", "adam"); "nesterov=true" → true.
Result<std::pair<std::string, json>> ParseSet(const std::string& text, size_t index) {
  const std::string field = "set." + std::to_string(index);
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Err(Status::InvalidArgument("--set expects KEY=VALUE, got \"" + text + "\"", field));
  }
  std::string value = text.substr(eq + 1);
  json parsed = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || parsed.is_object() || parsed.is_array()) parsed = value;
  return std::make_pair(text.substr(0, eq), parsed);
}

}  // namespace

Result<std::pair<int, int>> ParseWorkerRange(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    STOKE_ASSIGN_OR_RETURN(int n, ParsePositive(text));
    return std::make_pair(n, n);
  }
  STOKE_ASSIGN_OR_RETURN(int min, ParsePositive(text.substr(0, colon)));
  STOKE_ASSIGN_OR_RETURN(int max, ParsePositive(text.substr(colon + 1)));
  if (max < min) return Err(Status::InvalidArgument("--workers MIN:MAX needs MIN <= MAX", "workers"));
  return std::make_pair(min, max);
}

Result<TrainRequest> BuildTrainRequest(const TrainRequestOptions& o) {
  namespace fs = std::filesystem;
  if (o.model.empty()) return Err(Status::InvalidArgument("give the TorchScript model file", "model"));
  if (o.data.empty()) return Err(Status::InvalidArgument("--data is required", "data"));
  TrainRequest request;
  json train = json::object();
  const bool whole_dir = !o.job.code_dir.empty();
  for (const auto& [field, path] : {std::pair<std::string, std::string>{"model", o.model}, {"data", o.data},
                                    {"val", o.val}}) {
    if (path.empty()) continue;
    if (whole_dir) {
      train[field] = path;
      continue;
    }
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return Err(Status::InvalidArgument(path + " is not a readable file", field));
    std::string name = fs::path(path).filename().string();
    for (const UploadFile& earlier : request.uploads) {
      if (earlier.name == name) {
        return Err(Status::InvalidArgument("two files are both named " + name + "; rename one or use --dir", field));
      }
    }
    request.uploads.push_back({path, name});
    train[field] = name;
  }
  if (o.global_batch) train["global_batch"] = *o.global_batch;
  if (o.epochs) train["epochs"] = *o.epochs;
  if (o.max_steps) train["max_steps"] = *o.max_steps;
  if (o.seed) train["seed"] = *o.seed;
  if (o.lr) train["lr"] = *o.lr;
  if (o.momentum) train["momentum"] = *o.momentum;
  if (o.weight_decay) train["weight_decay"] = *o.weight_decay;
  if (!o.optimizer.empty()) train["optimizer"] = o.optimizer;
  if (!o.loss.empty()) train["loss"] = o.loss;
  if (!o.lr_schedule.empty()) train["lr_schedule"] = o.lr_schedule;
  for (size_t i = 0; i < o.set.size(); ++i) {
    STOKE_ASSIGN_OR_RETURN(auto kv, ParseSet(o.set[i], i));
    train[kv.first] = kv.second;
  }
  STOKE_ASSIGN_OR_RETURN(auto range, ParseWorkerRange(o.workers));
  json workers = {{"min", range.first}, {"max", range.second}};
  if (o.min_wait_s) workers["min_wait_s"] = *o.min_wait_s;
  request.spec = {{"type", "elastic"}, {"workers", workers}, {"train", train}};
  STOKE_RETURN_IF_ERROR(AddCommonJobFields(o.job, request.spec));
  return request;
}

}  // namespace stoke::cli
