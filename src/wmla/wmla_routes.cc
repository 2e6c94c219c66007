#include "wmla/wmla_routes.h"

#include <filesystem>

#include "wmla/routes_internal.h"

namespace stoke::wmla {

namespace internal {

WmlaContext::WmlaContext(const WmlaDeps& d)
    : deps(d),
      users(d.store, clock),
      wmla_dir(d.data_dir + "/wmla"),
      data_fs(wmla_dir + "/data"),
      tmp_dir(wmla_dir + "/tmp") {
  std::error_code ec;
  std::filesystem::create_directories(data_fs, ec);
  std::filesystem::create_directories(tmp_dir, ec);
}

}  // namespace internal

std::vector<api::Route> WmlaRoutes(const WmlaDeps& deps) {
  auto ctx = std::make_shared<internal::WmlaContext>(deps);
  std::vector<api::Route> out;
  for (auto* part : {&internal::UserRoutes, &internal::ExecRoutes, &internal::HpoRoutes}) {
    for (auto& r : (*part)(ctx)) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace stoke::wmla
