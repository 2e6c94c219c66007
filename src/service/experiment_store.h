#pragma once

#include <vector>

#include "common/status.h"
#include "service/experiment.h"
#include "store/store.h"

namespace stoke::service {

// Persists experiments as records in the store's key-value table (namespace "experiments"); each
// Save is one durable write, so the trial table and the searcher snapshot always change together.
// The hpo config is not stored: it is re-derived from spec_json by the caller's parser.
// Thread-safe (the store is).
class ExperimentStore {
 public:
  explicit ExperimentStore(store::Store& store) : store_(store) {}

  Result<ExperimentId> NextId();
  Status Save(const Experiment& e);
  Result<std::optional<Experiment>> Load(ExperimentId id);
  Result<std::vector<Experiment>> LoadAll();
  Status Erase(ExperimentId id);

  static std::string Encode(const Experiment& e);
  static Result<Experiment> Decode(std::string_view text);

 private:
  store::Store& store_;
};

}  // namespace stoke::service
