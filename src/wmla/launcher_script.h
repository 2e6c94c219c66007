#pragma once

#include <string_view>

namespace stoke::wmla {

// Where the launcher and its helpers sit inside a WMLA job's working directory.
inline constexpr std::string_view kHelperDir = ".wmla";
inline constexpr std::string_view kLauncherPath = ".wmla/launch.py";
inline constexpr std::string_view kGridTablePath = ".wmla/grid.json";
// The config.json key that carries an ExperimentGridSearch row index (see hpo_translate.h).
inline constexpr std::string_view kGridIndexParam = "_wmla_experiment";

// The Python launcher every WMLA job runs (stdlib only, /usr/bin/python3):
//   launch.py [--workers N] [--code-dir DIR] [--grid FILE] -- CMD ARGS...
// It completes the WMLA environment from what the server set (DLI_EXECID/APP_ID = wmla-$STOKE_JOB_ID,
// CHECKPOINT_DIR and SAVED_MODEL_DIR under $RESULT_DIR, DATA_DIR defaulting to $DLI_DATA_FS, its own
// folder on PYTHONPATH for the emetrics/elog helpers), replaces an ExperimentGridSearch row index in
// config.json by that row's hyperparameters, copies config.json into the code directory, then runs
// CMD once, or N times with MASTER_ADDR, MASTER_PORT (a free port), WORLD_SIZE, RANK, LOCAL_RANK set
// and the job's GPUs split evenly between ranks. Output is passed through and also kept apart as
// $LOG_DIR/wmla-stdout.log and $LOG_DIR/wmla-stderr.log. When a rank fails the others get SIGTERM and the
// launcher exits with the failed rank's status; SIGTERM to the launcher is forwarded to every rank.
std::string_view LauncherScript();

// emetrics.py and elog.py work-alikes (WMLA's metric helpers), importable from every WMLA job.
std::string_view EmetricsHelper();
std::string_view ElogHelper();

}  // namespace stoke::wmla
