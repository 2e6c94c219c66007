#pragma once

#include <map>
#include <string>

#include "common/status.h"

namespace stoke::wmla {

// An uploaded `file` part: a single .py script or a (gzipped or plain) `*.modelDir.tar`.
struct CodeUpload {
  std::string filename;
  std::string content;
};

// The code of one WMLA submission, unpacked into a private staging directory together with the
// launcher and helpers (launcher_script.h), then packed as the tar.gz a Stoke job or experiment is
// given. Removes its staging directory when destroyed. Not thread-safe; one per request.
class StagedCode {
 public:
  // Stages `upload` under `tmp_root` (created if missing). A name ending in ".py" is a script stored
  // under that name; anything else must be an archive (format found from the content). `model_main`
  // (may be empty, e.g. for --user-cmd; then a single .py upload becomes the main) must exist in the
  // code directory: the archive root, or its only top-level directory (WMLA tars the directory itself).
  // `extra_files` are written too (relative path -> content).
  // Errors: InvalidArgument field "file" (not a script or safe archive, empty), field "args.--model-main"
  // (missing, absolute, "..", or not in the upload).
  static Result<StagedCode> Stage(const std::string& tmp_root, const CodeUpload& upload, std::string model_main,
                                  const std::map<std::string, std::string>& extra_files = {});
  ~StagedCode();
  StagedCode(StagedCode&& other) noexcept;
  StagedCode& operator=(StagedCode&&) = delete;
  StagedCode(const StagedCode&) = delete;

  // "." or the top-level directory holding the code, relative to the job's working directory.
  const std::string& code_subdir() const { return code_subdir_; }
  const std::string& model_main() const { return model_main_; }
  // The tar.gz of the staged tree (built once, on first call).
  Result<std::string> ArchivePath();
  Result<std::string> ArchiveBytes();

 private:
  StagedCode(std::string dir) : dir_(std::move(dir)) {}

  std::string dir_;          // staging root: tree/ and code.tar.gz
  std::string code_subdir_ = ".";
  std::string model_main_;
  std::string archive_;
};

}  // namespace stoke::wmla
