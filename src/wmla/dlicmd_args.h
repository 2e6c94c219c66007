#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

// The argument language of WMLA's `dlicmd.py --exec-start ...`, as sent in `POST /execs?args=...` and in
// an HPO task's `modelSpec.args`. Pure functions; thread-safe.
namespace stoke::wmla {

// Splits an args string the way a POSIX shell splits words: blanks separate words, '...' keeps
// everything literally, "..." keeps everything but lets \" \\ \$ \` be escaped, a backslash outside
// quotes escapes the next character. No expansion of any kind. Errors (field "args"): an unclosed
// quote or a trailing lone backslash.
Result<std::vector<std::string>> TokenizeArgs(std::string_view text);

// What the known flags say. Absent flags keep their defaults; `user_args` is what the training
// script receives: every word that is not a known flag or its value, in order, and everything after `--`.
struct ExecArgs {
  std::string framework;                  // --exec-start
  std::string model_main;                 // --model-main
  std::string model_dir;                  // --model-dir (client-side in dlicmd; kept for display)
  std::optional<int> num_worker;          // --numWorker (also --edt-options maxWorkers=N)
  std::optional<std::string> device_type; // --workerDeviceType cpu|gpu
  std::optional<int> device_num;          // --workerDeviceNum (also --gpuPerWorker)
  std::optional<int64_t> worker_memory;   // --workerMemory, bytes
  std::optional<int> priority;            // --msd-priority
  std::string app_name;                   // --appName
  std::string datastore_meta;             // --cs-datastore-meta, raw ("type=fs,data_path=mnist")
  std::string data_source;                // --data-source, raw JSON text
  std::map<std::string, std::string> env; // --msd-env K=V (repeatable)
  bool user_cmd = false;                  // --user-cmd: the words after `--` are the whole command
  std::vector<std::string> user_args;
  std::vector<std::string> ignored;       // accepted WMLA flags that mean nothing on Stoke
};

// Parses the words of an args string. Both `--flag value` and `--flag=value` are accepted.
// Errors name the flag in the field ("args.--numWorker"): a missing value, a non-integer count,
// a count out of range, a bad memory size, an unknown device type, a malformed --msd-env.
Result<ExecArgs> ParseExecArgs(const std::vector<std::string>& words);
Result<ExecArgs> ParseExecArgs(std::string_view text);

// `data_path` of "type=fs,data_path=mnist" ("" when absent).
std::string DatastoreDataPath(std::string_view meta);

}  // namespace stoke::wmla
