#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "launch/launcher.h"

namespace stoke::service {

// The on-disk layout of one job under <data-dir>/jobs/<dir>:
//   work/        working directory (uploaded code lands here)
//   result/      $RESULT_DIR (val_dict_list.json, models, anything the job keeps)
//   logs/        $LOG_DIR: output.log (stdout+stderr), evaluation-metrics.txt
//   hparams.json $STOKE_HPARAMS
//   handle       "pid start_ticks" of the job's supervisor, written right after launch
//   status       exit status written by the supervisor
// Stateless; thread-safe.
class JobFiles {
 public:
  explicit JobFiles(std::string job_dir) : dir_(std::move(job_dir)) {}

  const std::string& dir() const { return dir_; }
  std::string WorkDir() const { return dir_ + "/work"; }
  std::string ResultDir() const { return dir_ + "/result"; }
  std::string LogDir() const { return dir_ + "/logs"; }
  std::string LogPath() const { return LogDir() + "/output.log"; }
  std::string EmetricsPath() const { return LogDir() + "/evaluation-metrics.txt"; }
  std::string ValDictListPath() const { return ResultDir() + "/val_dict_list.json"; }
  std::string HparamsPath() const { return dir_ + "/hparams.json"; }
  std::string StatusPath() const { return dir_ + "/status"; }
  std::string HandlePath() const { return dir_ + "/handle"; }

  // Creates work/, result/ and logs/ (fsyncs the parent so the directory survives a crash).
  Status Create() const;
  // Writes hparams.json and, when `write_config_json`, config.json into the working dir.
  Status PrepareForLaunch(const std::string& working_dir, const std::string& hparams_json,
                          bool write_config_json) const;
  // "pid start_ticks" at `path` (default: HandlePath(); elastic jobs keep one file per worker).
  void WriteHandle(const launch::ProcessHandle& handle, const std::string& path = "") const;
  std::optional<launch::ProcessHandle> ReadHandle(const std::string& path = "") const;

  // Bytes of `path` from `offset` to its end (empty when missing); at most `max_bytes`.
  std::string ReadFrom(const std::string& path, int64_t offset, int64_t max_bytes = 16 << 20) const;
  Status Remove() const;

 private:
  std::string dir_;
};

// Writes `contents` to `path` atomically (temp file, fsync, rename).
Status WriteFileAtomic(const std::string& path, const std::string& contents);

}  // namespace stoke::service
