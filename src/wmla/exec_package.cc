#include "wmla/exec_package.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "archive/archive_extractor.h"
#include "archive/archive_writer.h"
#include "wmla/launcher_script.h"

namespace stoke::wmla {

namespace fs = std::filesystem;

namespace {

Status WriteFile(const fs::path& path, std::string_view content, bool executable = false) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return Status::Internal("cannot write " + path.string());
  if (executable) fs::permissions(path, fs::perms::owner_exec, fs::perm_options::add, ec);
  return Status::Ok();
}

// A relative path that stays inside its root.
bool SafeRelative(const std::string& p) {
  if (p.empty() || p.front() == '/') return false;
  for (const auto& part : fs::path(p)) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace

StagedCode::StagedCode(StagedCode&& other) noexcept
    : dir_(std::move(other.dir_)),
      code_subdir_(std::move(other.code_subdir_)),
      model_main_(std::move(other.model_main_)),
      archive_(std::move(other.archive_)) {
  other.dir_.clear();
}

StagedCode::~StagedCode() {
  if (dir_.empty()) return;
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

Result<StagedCode> StagedCode::Stage(const std::string& tmp_root, const CodeUpload& upload, std::string model_main,
                                     const std::map<std::string, std::string>& extra_files) {
  if (upload.content.empty()) return Err(Status::InvalidArgument("the uploaded file is empty", "file"));
  if (!model_main.empty() && !SafeRelative(model_main)) {
    return Err(Status::InvalidArgument("--model-main must be a relative path inside the upload", "args.--model-main"));
  }
  std::error_code ec;
  fs::create_directories(tmp_root, ec);
  std::string tmpl = tmp_root + "/wmla-stage-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return Err(Status::Internal("cannot create a staging directory"));
  StagedCode staged(tmpl);
  fs::path tree = fs::path(staged.dir_) / "tree";

  std::string base = fs::path(upload.filename).filename().string();
  if (base.ends_with(".py")) {
    fs::create_directories(tree, ec);
    STOKE_RETURN_IF_ERROR(WriteFile(tree / base, upload.content));
    if (model_main.empty()) model_main = base;
  } else {
    Status s = archive::ExtractArchiveFromMemory(upload.content, tree.string());
    if (!s.ok()) {
      if (s.code() == StatusCode::kInvalidArgument) {
        return Err(Status::InvalidArgument(
            "file must be a .py script or a tar (optionally gzipped) of the model directory (*.modelDir.tar): " +
                s.message(),
            "file"));
      }
      return Err(Status(s.code(), s.message(), "file"));
    }
  }

  // The code directory: the root, or the one top-level directory WMLA clients tar up.
  std::vector<fs::path> top;
  for (const auto& entry : fs::directory_iterator(tree, ec)) top.push_back(entry.path());
  bool single_dir = top.size() == 1 && fs::is_directory(top[0]);
  if (!model_main.empty()) {
    if (fs::is_regular_file(tree / model_main)) {
      staged.code_subdir_ = ".";
    } else if (single_dir && fs::is_regular_file(top[0] / model_main)) {
      staged.code_subdir_ = top[0].filename().string();
    } else {
      return Err(Status::InvalidArgument("--model-main " + model_main + " is not in the uploaded code",
                                         "args.--model-main"));
    }
  } else if (single_dir) {
    staged.code_subdir_ = top[0].filename().string();
  }
  staged.model_main_ = model_main;

  STOKE_RETURN_IF_ERROR(WriteFile(tree / kLauncherPath, LauncherScript(), true));
  STOKE_RETURN_IF_ERROR(WriteFile(tree / kHelperDir / "emetrics.py", EmetricsHelper()));
  STOKE_RETURN_IF_ERROR(WriteFile(tree / kHelperDir / "elog.py", ElogHelper()));
  for (const auto& [path, content] : extra_files) {
    if (!SafeRelative(path)) return Err(Status::Internal("bad staged file name " + path));
    STOKE_RETURN_IF_ERROR(WriteFile(tree / path, content));
  }
  return staged;
}

Result<std::string> StagedCode::ArchivePath() {
  if (archive_.empty()) {
    std::string out = dir_ + "/code.tar.gz";
    STOKE_RETURN_IF_ERROR(archive::WriteArchive(dir_ + "/tree", out, archive::ArchiveFormat::kTarGz));
    archive_ = out;
  }
  return archive_;
}

Result<std::string> StagedCode::ArchiveBytes() {
  STOKE_ASSIGN_OR_RETURN(std::string path, ArchivePath());
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in && !in.eof()) return Err(Status::Internal("cannot read " + path));
  return buf.str();
}

}  // namespace stoke::wmla
