#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/job.h"
#include "common/status.h"

namespace stoke::deploy {

struct ReplicaRange {
  int min = 1;
  int max = 1;
  bool operator==(const ReplicaRange&) const = default;
};

struct BatchingOptions {
  int max_batch = 32;
  double max_delay_ms = 5;
  bool operator==(const BatchingOptions&) const = default;
};

// Where a deployment's model came from. The file itself is always copied into the deployment's
// own directory, so deleting the job or re-uploading never changes a running version.
struct ModelSource {
  JobId job = 0;           // 0 = an uploaded file
  std::string path;        // inside the job's result dir ("model.pt"), or the upload's file name
  bool operator==(const ModelSource&) const = default;
};

// What the user asks for.
struct DeploymentSpec {
  std::string name;
  ModelSource model;
  ReplicaRange replicas;
  BatchingOptions batching;
  Resources resources;                 // per replica
  std::vector<int64_t> input_shape;    // one row's shape; empty = learnt by the replica
};

// A replica job the deployment owns.
struct ReplicaRecord {
  JobId job_id = 0;
  int port = 0;
  int version = 0;
  bool operator==(const ReplicaRecord&) const = default;
};

// A deployment as the store keeps it (kv namespace "deployments", key = name).
struct Deployment {
  DeploymentSpec spec;
  std::string user;
  int version = 1;                     // bumps when the model, batching or resources change
  std::string model_file;              // the copied model of `version`
  std::vector<ReplicaRecord> replicas;
  UnixMillis created_at = 0;
  UnixMillis updated_at = 0;
};

// Names are DNS-label-like: 1-63 of [a-z0-9-], starting with a letter or digit.
Status ValidateDeploymentName(std::string_view name);
// Checks ranges: 0 <= min <= max <= 64, max >= 1, max_batch 1..65536, max_delay_ms 0..10000.
Status ValidateSpec(const DeploymentSpec& spec);

// Byte encoding for the store (JSON text). Stateless; thread-safe.
std::string EncodeDeployment(const Deployment& d);
Result<Deployment> DecodeDeployment(std::string_view bytes);

}  // namespace stoke::deploy
