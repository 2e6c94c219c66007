#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_context.h"
#include "common/clock.h"
#include "wmla/dlicmd_args.h"
#include "wmla/exec_package.h"
#include "wmla/user_store.h"
#include "wmla/wmla_routes.h"

// Shared by the WMLA route files; not part of stoke_wmla's interface.
namespace stoke::wmla::internal {

inline constexpr const char* kDlBase = "/platform/rest/deeplearning/v1";
inline constexpr const char* kHpoNamespace = "wmla.hpo";

// State shared by all WMLA routes. Thread-safe (its members are).
struct WmlaContext {
  explicit WmlaContext(const WmlaDeps& d);

  WmlaDeps deps;
  SystemClock clock;
  UserStore users;
  std::string wmla_dir;  // <data_dir>/wmla
  std::string data_fs;   // <data_dir>/wmla/data: DLI_DATA_FS
  std::string tmp_dir;   // <data_dir>/wmla/tmp: staging
  std::mutex hpo_names;  // held from a task name's check to its record's write, so names stay unique
};
using ContextPtr = std::shared_ptr<WmlaContext>;

// A WMLA submission turned into a Stoke command job.
struct ExecPlan {
  JobSpec spec;
  std::string framework;  // canonical name
  int num_worker = 1;
  std::string warning;    // said in the answer (edtPyTorch, CPU fallback), "" when none
};

// Builds the job for `args` (parsed from `raw_args`) whose code is `code`. `hardware` is the 4.x
// `data.hardwareSpec` (null when absent), `data_source` the 2.x `data.dataSource` (null when absent).
// `grid_table` adds `--grid` for ExperimentGridSearch trials.
Result<ExecPlan> PlanExec(const WmlaContext& ctx, const ExecArgs& args, const StagedCode& code, const std::string& raw_args,
                          const nlohmann::json& hardware, const nlohmann::json& data_source, bool grid_table);

// The 2.x exec object for a job.
nlohmann::json ExecToJson(const Job& job);

// The multipart `file` part, or InvalidArgument field "file".
Result<CodeUpload> UploadedFile(const httplib::Request& req);

std::vector<api::Route> ExecRoutes(ContextPtr ctx);
std::vector<api::Route> HpoRoutes(ContextPtr ctx);
std::vector<api::Route> UserRoutes(ContextPtr ctx);

}  // namespace stoke::wmla::internal
