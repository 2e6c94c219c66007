#pragma once

#include <memory>
#include <string>

#include "api/experiment_json.h"
#include "api/experiment_routes.h"
#include "api/testing/service_stack.h"
#include "service/experiment_service.h"
#include "wmla/wmla_routes.h"

namespace stoke::wmla::testing {

// A real REST server with the WMLA routes, in-process on a free loopback port. The job runner and
// the experiment loop are not started: jobs stay QUEUED, which is what route tests need to look at.
// Not thread-safe; one per test.
class TestServer : public api::testing::ServiceStack {
 public:
  explicit TestServer(const std::string& name) : ServiceStack("wmla-" + name) {
    experiments = std::make_unique<service::ExperimentService>(
        service::ExperimentService::Deps{*store, *jobs, clock, api::ParseExperimentSpecText}, dir.string());
    std::vector<api::Route> routes = api::ExperimentRoutes(*experiments, *jobs);
    for (auto& r : WmlaRoutes(WmlaDeps{*jobs, *experiments, *auth, *store, dir.string()})) routes.push_back(std::move(r));
    Serve(std::move(routes));
  }
  ~TestServer() override {
    Stop();  // the routes use `experiments`
    experiments.reset();
  }

  std::unique_ptr<service::ExperimentService> experiments;
};

}  // namespace stoke::wmla::testing
