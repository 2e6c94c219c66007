#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace stoke::api {

// The "train" object of an elastic job → stoke-worker's training flags, e.g.
//   {"model": "model.pt", "data": "train.npz", "lr": 0.05, "nesterov": true}
//   → --model model.pt --data train.npz --lr 0.05 --nesterov
// Keys are the worker's flag names with '_' for '-' (docs/api.md lists them). Unknown keys,
// wrong types and out-of-range values are errors naming "train.<key>". Numeric and choice keys
// also take an HPO placeholder string such as "{lr}", substituted per trial. The server adds
// the flags it owns (--store, --output, --threads, --resume) at launch.
Result<std::vector<std::string>> TrainFlagsFromJson(const nlohmann::json& train);

}  // namespace stoke::api
