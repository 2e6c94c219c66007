#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/status.h"
#include "elastic/kv_store.h"
#include "elastic/membership_client.h"
#include "engine/communicator.h"
#include "engine/train_options.h"

namespace stoke::engine {

struct TrainerDeps {
  // The job's rendezvous store and this worker's membership; both null for a one-process run.
  elastic::KvStore* job_store = nullptr;
  elastic::MembershipClient* membership = nullptr;
  GlooOptions gloo;
  // Set asynchronously (a SIGTERM handler) to ask this worker to stop; read at step boundaries.
  const std::atomic<bool>* stop = nullptr;
};

enum class TrainOutcome {
  kFinished,  // the job reached its last step (or ended while this worker was on standby)
  kReleased,  // a shrink or its own granted leave left this worker out; it exits while the others go on
  kStopped,   // told to stop (TrainerDeps::stop) and not released: the job cannot go on without it, or
              // it is not elastic. Rank 0 of a group that stops wrote checkpoint.pt at the step reached.
};

struct TrainSummary {
  TrainOutcome outcome = TrainOutcome::kFinished;
  int64_t steps = 0;               // global step reached
  int64_t steps_trained_here = 0;  // steps this worker took part in
  int64_t regroups = 0;            // generations this worker trained in
  int64_t failed_steps = 0;        // steps aborted by a failed collective (redone after regroup)
  double train_loss = std::numeric_limits<double>::quiet_NaN();  // mean over the last epoch
  double val_loss = std::numeric_limits<double>::quiet_NaN();
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> regroup_ms;  // generation change -> state synced, per regroup
  double train_seconds = 0;        // wall time inside training steps (no setup, no regroups)
  int64_t overlapped_buckets = 0;  // gradient buckets whose all-reduce started during backward
};

// Trains options.model_path data-parallel. With a job store it follows the membership protocol
// (src/elastic/README.md): it trains in whatever generation includes this worker, switches
// generations only at step boundaries, and survives peers joining, leaving and dying.
// Rank 0 writes metrics.jsonl, checkpoint.pt (every epoch) and the final model.pt.
// When deps.stop is set it leaves gracefully at a step boundary (src/engine/README.md).
Result<TrainSummary> Train(const TrainOptions& options, const TrainerDeps& deps);

}  // namespace stoke::engine
