#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/submit_request.h"
#include "common/status.h"

namespace stoke::cli {

// What `stoke train MODEL.pt --data ...` was given.
struct TrainRequestOptions {
  SubmitOptions job;             // name, env, resources (per worker), priority, max runtime, wait
  std::string model;             // local file (or, with code_dir, a path inside it)
  std::string data;
  std::string val;
  std::string workers = "1";     // "N" or "MIN:MAX"
  std::optional<int64_t> min_wait_s;
  std::vector<std::string> set;  // extra training options, "key=value" (value parsed as JSON when it is)
  // Common options with their own flags; unset = the worker's default.
  std::optional<int64_t> global_batch, epochs, max_steps, seed;
  std::optional<double> lr, momentum, weight_decay;
  std::string optimizer, loss, lr_schedule;
};

// The files `stoke train` uploads: local path → name in the job's working directory.
struct UploadFile {
  std::string local_path;
  std::string name;
  bool operator==(const UploadFile&) const = default;
};

struct TrainRequest {
  nlohmann::json spec;               // the elastic job spec of POST /api/v1/jobs
  std::vector<UploadFile> uploads;   // empty when options.job.code_dir is uploaded instead
};

// "4" → {4, 4}; "1:4" → {1, 4}. Errors name the field "workers".
Result<std::pair<int, int>> ParseWorkerRange(std::string_view text);

// Builds the spec and the upload list. Without --dir, model/data/val are local files uploaded
// under their base names (two with the same base name are an error); with --dir, they are paths
// inside that directory, which is uploaded whole. Errors name the flag in `field`.
Result<TrainRequest> BuildTrainRequest(const TrainRequestOptions& options);

}  // namespace stoke::cli
