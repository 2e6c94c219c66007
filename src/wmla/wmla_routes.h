#pragma once

#include <string>
#include <vector>

#include "api/http_context.h"
#include "service/auth_service.h"
#include "service/experiment_service.h"
#include "service/job_service.h"
#include "store/store.h"

namespace stoke::wmla {

// What the WMLA layer is built on. Every reference must outlive the routes.
struct WmlaDeps {
  service::JobService& jobs;
  service::ExperimentService& experiments;
  service::AuthService& auth;
  store::Store& store;
  std::string data_dir;  // the server's data dir; WMLA files go under <data_dir>/wmla (data/ = DLI_DATA_FS)
};

// The WMLA REST dialect on top of Stoke (docs/wmla.md):
//   /auth/v1/logon, /platform/rest/conductor/v1/auth/logon      HTTP Basic -> {"accessToken"}
//   /platform/rest/deeplearning/v1/execs[...]                   deep-learning execs = Stoke jobs "wmla-<id>"
//   /platform/rest/deeplearning/v1/hypersearch[...]             HPO tasks = Stoke experiments
//   /platform/rest/deeplearning/v1/conf
//   /api/v1/users[...]                                          password users (Stoke error format)
// WMLA routes answer errors as {"code","message","description"[,"field"]}. The returned routes share
// state that lives as long as any of them; they are thread-safe.
std::vector<api::Route> WmlaRoutes(const WmlaDeps& deps);

}  // namespace stoke::wmla
