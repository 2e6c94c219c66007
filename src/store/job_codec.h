#pragma once

#include <string>

#include "common/job.h"
#include "common/status.h"

// Text encodings of the job parts that live in JSON columns. Internal to the store.
namespace stoke::store {

std::string EncodeSpec(const JobSpec& spec);
Result<JobSpec> DecodeSpec(const std::string& text);

std::string EncodeAllocation(const Allocation& allocation);
Result<Allocation> DecodeAllocation(const std::string& text);

}  // namespace stoke::store
