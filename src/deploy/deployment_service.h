#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "deploy/autoscaler.h"
#include "deploy/deployment.h"
#include "deploy/replica_router.h"
#include "service/job_service.h"
#include "service/principal.h"
#include "store/store.h"

namespace stoke::deploy {

enum class ReplicaPhase { kQueued, kStarting, kReady, kDraining };
std::string_view ReplicaPhaseName(ReplicaPhase phase);  // "queued", "starting", "ready", "draining"

// A deployment with its live state, for the API.
struct DeploymentView {
  struct Replica {
    JobId job_id = 0;
    int port = 0;
    int version = 0;
    ReplicaPhase phase = ReplicaPhase::kQueued;
    int64_t outstanding = 0;
  };
  Deployment deployment;
  int desired = 0;
  std::vector<Replica> replicas;
  double mean_in_flight = 0;
  int ready() const;
};

// A PATCH: absent fields stay. A new model, batching, resources or input shape starts a new
// version (rolling: new replicas become ready before old ones are drained and stopped).
struct DeploymentUpdate {
  std::optional<ModelSource> model;          // from a job's result dir
  std::optional<std::string> uploaded_model; // a file holding an uploaded model (wins over model)
  std::string uploaded_name;                 // the upload's file name, for the record
  std::optional<ReplicaRange> replicas;
  std::optional<BatchingOptions> batching;
  std::optional<Resources> resources;
  std::optional<std::vector<int64_t>> input_shape;
};

// Model deployments: each replica is a Stoke job running stoke-serve on its own port, so
// replicas take pool slots like any job. A control loop keeps every deployment at the replica
// count its autoscaler wants (in-flight requests at the router, between min and max), replaces
// replicas whose jobs end, health-checks new replicas before routing to them, and rolls versions
// over without dropping requests. Deployments (and their replica jobs) are persisted in the store
// kv namespace "deployments", so a restarted server re-attaches them. Thread-safe.
class DeploymentService {
 public:
  struct Deps {
    store::Store& store;
    service::JobService& jobs;
    const Clock& clock;
  };
  struct Options {
    std::string data_dir;                  // models are kept in <data_dir>/deployments/<name>/v<N>/
    std::string serve_binary;              // empty = FindServeBinary()
    std::string replica_host = "127.0.0.1";
    int tick_ms = 200;                     // control loop period
    int health_timeout_ms = 1000;
    int replica_start_timeout_s = 180;     // a RUNNING replica that is not healthy by then is replaced
    int wait_for_replica_ms = 60000;       // how long a scoring request waits when no replica is ready
    int kill_grace_s = 5;
    AutoscalePolicy autoscale;
  };

  DeploymentService(Deps deps, Options options);
  ~DeploymentService();
  DeploymentService(const DeploymentService&) = delete;
  DeploymentService& operator=(const DeploymentService&) = delete;

  // Loads the stored deployments (their replica jobs are re-attached) and starts the control loop.
  Status Start();
  // Stops the loop. Replica jobs keep running; the next Start() picks them up.
  void Stop();

  // `uploaded_model`: path of a file holding the uploaded model (the caller deletes it afterwards);
  // otherwise spec.model names a job and a path inside its result dir.
  Result<DeploymentView> Create(const service::Principal& who, DeploymentSpec spec,
                                const std::optional<std::string>& uploaded_model);
  Result<std::vector<DeploymentView>> List(const service::Principal& who);
  Result<DeploymentView> Get(const service::Principal& who, const std::string& name);
  Result<DeploymentView> Update(const service::Principal& who, const std::string& name, DeploymentUpdate update);
  // Stops every replica and forgets the deployment.
  Status Delete(const service::Principal& who, const std::string& name);

  // Scores `body` (the replica's /predict JSON) on the least-loaded ready replica.
  Result<RoutedResponse> Predict(const service::Principal& who, const std::string& name, const std::string& body);

  // Per-deployment request counts, latency histogram, batch sizes, replicas (Prometheus text).
  std::string PrometheusText() const;

  // Where stoke-serve is: $STOKE_SERVE_BIN, else next to this executable, else
  // <exe dir>/../serving/stoke-serve (the build tree), ../lib/stoke or ../libexec/stoke. "" if none.
  static std::string FindServeBinary();

  // Runs one control-loop pass now (tests drive the loop by hand with tick_ms <= 0).
  void ReconcileOnce();

 private:
  struct LiveReplica {
    ReplicaRecord record;
    ReplicaPhase phase = ReplicaPhase::kQueued;
    std::chrono::steady_clock::time_point running_since{};
    int health_failures = 0;
    std::chrono::steady_clock::time_point next_stats{};
    int64_t batches = 0, batch_rows = 0;  // last seen from the replica's /stats
  };
  struct Live {
    Deployment d;
    std::shared_ptr<ReplicaRouter> router;
    Autoscaler autoscaler;
    int desired = 1;
    std::map<JobId, LiveReplica> replicas;
    int64_t retired_batches = 0, retired_batch_rows = 0;  // from replicas that are gone
  };

  void Loop();
  void Reconcile(const std::string& name);
  // Under mu_: the steps of Reconcile that change state.
  void ScaleLocked(Live& live);
  Status StartReplicaLocked(Live& live);
  void StopReplicaLocked(Live& live, JobId id, const std::string& why);
  void ForgetReplicaLocked(Live& live, JobId id);
  Status PersistLocked(Live& live);
  DeploymentView ViewLocked(const Live& live) const;
  Result<std::shared_ptr<Live>> FindVisibleLocked(const service::Principal& who, const std::string& name) const;
  Result<std::string> InstallModel(const service::Principal& who, const std::string& name, int version,
                                   const ModelSource& source, const std::optional<std::string>& uploaded);
  int FreePortLocked() const;
  service::Principal OwnerOf(const Live& live) const;

  Deps deps_;
  Options options_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Live>> live_;  // GUARDED_BY(mu_)
  std::condition_variable cv_;
  bool stop_ = false;                                  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace stoke::deploy
