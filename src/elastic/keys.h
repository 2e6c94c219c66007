#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

// The rendezvous key layout of one elastic job (documented in src/elastic/README.md).
// Every key is relative to the job's scope (a PrefixKvStore such as "jobs/42/").
namespace stoke::elastic::keys {

inline constexpr char kWorkerCount[] = "workers/count";  // Add: hands out worker ids 0,1,2...
inline constexpr char kEventCount[] = "events/count";    // Add: length of the event log
inline constexpr char kScaleTarget[] = "scale/target";   // desired world size (decimal)
inline constexpr char kLatestGeneration[] = "gen/latest";  // newest published generation (decimal)
inline constexpr char kDone[] = "done";                   // set once when the job ends ("ok" or an error)

inline std::string WorkerInfo(int64_t worker) { return "workers/" + std::to_string(worker); }
inline std::string Heartbeat(int64_t worker) { return "hb/" + std::to_string(worker); }
inline std::string Event(int64_t index) { return "events/" + std::to_string(index); }
inline std::string GenerationMembers(int64_t gen) { return "gen/" + std::to_string(gen) + "/members"; }
// Scope of the collective library's own rendezvous for one generation.
inline std::string GenerationScope(int64_t gen) { return "gen/" + std::to_string(gen) + "/pg/"; }

// "3,0,5" <-> {3,0,5}.
std::string JoinIds(const std::vector<int64_t>& ids);
Result<std::vector<int64_t>> ParseIds(std::string_view text);
Result<int64_t> ParseInt(std::string_view text);

}  // namespace stoke::elastic::keys
