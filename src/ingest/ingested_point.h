#pragma once

#include <cstdint>
#include <string>

namespace stoke::ingest {

// One metric value a job reported at one step, as read from its metric files.
struct IngestedPoint {
  int64_t step = 0;
  std::string name;
  double value = 0;
  bool operator==(const IngestedPoint&) const = default;
};

}  // namespace stoke::ingest
