#include "deploy/deploy_routes.h"

#include <unistd.h>

#include "api/json_reader.h"

namespace stoke::deploy {

using api::JsonObjectReader;
using api::RequestContext;
using nlohmann::json;

namespace {

constexpr size_t kMaxModelBytes = 1u << 30;
constexpr size_t kMaxPredictBytes = 64u << 20;

// A temporary file that deletes itself.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

Status WriteTemp(const std::string& content, TempFile& temp) {
  char tmpl[] = "/tmp/stoke-model-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd < 0) return Status::Internal("cannot store the upload");
  temp.path = tmpl;
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n <= 0) {
      ::close(fd);
      return Status::Internal("cannot store the upload");
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  return Status::Ok();
}

Status ParseReplicas(JsonObjectReader& top, std::optional<ReplicaRange>& out, const ReplicaRange& base) {
  const json* raw = top.Raw("replicas");
  if (raw == nullptr) return Status::Ok();
  ReplicaRange r = base;
  if (raw->is_number_integer()) {
    int64_t n = raw->get<int64_t>();
    if (n < 1 || n > 64) return Status::InvalidArgument("replicas must be 1..64", "replicas");
    r.min = r.max = static_cast<int>(n);
  } else {
    STOKE_ASSIGN_OR_RETURN(JsonObjectReader reader, JsonObjectReader::Make(*raw, "replicas"));
    STOKE_ASSIGN_OR_RETURN(auto min, reader.Int("min", 0, 64));
    STOKE_ASSIGN_OR_RETURN(auto max, reader.Int("max", 1, 64));
    STOKE_RETURN_IF_ERROR(reader.Finish());
    if (min) r.min = static_cast<int>(*min);
    if (max) r.max = static_cast<int>(*max);
    if (min && !max) r.max = std::max(r.min, std::max(1, r.max));
    if (max && !min) r.min = std::min(r.min, r.max);
  }
  out = r;
  return Status::Ok();
}

Status ParseBatching(JsonObjectReader& top, std::optional<BatchingOptions>& out, const BatchingOptions& base) {
  STOKE_ASSIGN_OR_RETURN(auto reader, top.Object("batching"));
  if (!reader) return Status::Ok();
  BatchingOptions b = base;
  STOKE_ASSIGN_OR_RETURN(auto max_batch, reader->Int("max_batch", 1, 65536));
  STOKE_ASSIGN_OR_RETURN(auto delay, reader->Number("max_delay_ms", 0, 10000));
  STOKE_RETURN_IF_ERROR(reader->Finish());
  if (max_batch) b.max_batch = static_cast<int>(*max_batch);
  if (delay) b.max_delay_ms = *delay;
  out = b;
  return Status::Ok();
}

Status ParseResourcesField(JsonObjectReader& top, std::optional<Resources>& out, const Resources& base) {
  STOKE_ASSIGN_OR_RETURN(auto reader, top.Object("resources"));
  if (!reader) return Status::Ok();
  Resources r = base;
  STOKE_ASSIGN_OR_RETURN(auto gpus, reader->Int("gpus", 0, 1024));
  STOKE_ASSIGN_OR_RETURN(auto cpus, reader->Int("cpus", 1, 4096));
  if (gpus) r.gpus = static_cast<int>(*gpus);
  if (cpus) r.cpus = static_cast<int>(*cpus);
  if (const json* mem = reader->Raw("memory")) {
    STOKE_ASSIGN_OR_RETURN(r.memory_bytes, api::ParseByteSize(*mem, reader->FieldPath("memory")));
  }
  STOKE_RETURN_IF_ERROR(reader->Finish());
  out = r;
  return Status::Ok();
}

Status ParseModel(JsonObjectReader& top, std::optional<ModelSource>& out) {
  STOKE_ASSIGN_OR_RETURN(auto reader, top.Object("model"));
  if (!reader) return Status::Ok();
  ModelSource m;
  STOKE_ASSIGN_OR_RETURN(auto job, reader->Int("job", 1, INT64_MAX));
  STOKE_ASSIGN_OR_RETURN(auto path, reader->String("path", 1024));
  STOKE_RETURN_IF_ERROR(reader->Finish());
  if (!job) return Status::InvalidArgument("model.job is required (the id of the job whose result holds the model)", "model.job");
  m.job = *job;
  m.path = path.value_or("model.pt");
  if (m.path.empty()) m.path = "model.pt";
  out = m;
  return Status::Ok();
}

Status ParseInputShape(JsonObjectReader& top, std::optional<std::vector<int64_t>>& out) {
  const json* raw = top.Raw("input_shape");
  if (raw == nullptr) return Status::Ok();
  if (!raw->is_array() || raw->size() > 8) {
    return Status::InvalidArgument("input_shape must be an array of at most 8 positive integers", "input_shape");
  }
  std::vector<int64_t> shape;
  for (const json& d : *raw) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1) {
      return Status::InvalidArgument("input_shape must be an array of positive integers", "input_shape");
    }
    shape.push_back(d.get<int64_t>());
  }
  out = shape;
  return Status::Ok();
}

// Reads the body of a create or update: JSON, or multipart with a `spec` JSON part and a `model` file.
Result<json> ReadBody(const httplib::Request& req, TempFile& model_file, std::string& model_name) {
  std::string type = req.get_header_value("Content-Type");
  if (!type.starts_with("multipart/form-data")) return api::JsonBody(req);
  json body = json::object();
  if (req.has_file("spec")) {
    STOKE_ASSIGN_OR_RETURN(body, api::ParseJsonText(req.get_file_value("spec").content));
  }
  if (!req.has_file("model")) {
    return Err(Status::InvalidArgument("multipart deployment needs a part named model (the TorchScript file)", "model"));
  }
  const auto& part = req.get_file_value("model");
  if (part.content.empty()) return Err(Status::InvalidArgument("the model file is empty", "model"));
  if (part.content.size() > kMaxModelBytes) return Err(Status::ResourceExhausted("the model file is over 1 GiB", "model"));
  STOKE_RETURN_IF_ERROR(WriteTemp(part.content, model_file));
  model_name = part.filename.empty() ? "model.pt" : part.filename;
  return body;
}

Status CreateDeployment(DeploymentService& service, const httplib::Request& req, httplib::Response& res,
                        const RequestContext& ctx) {
  TempFile upload;
  std::string upload_name;
  STOKE_ASSIGN_OR_RETURN(json body, ReadBody(req, upload, upload_name));
  bool uploaded = !upload.path.empty();
  STOKE_ASSIGN_OR_RETURN(DeploymentSpec spec, ParseDeploymentSpec(body, uploaded));
  if (uploaded) spec.model = ModelSource{0, upload_name};
  STOKE_ASSIGN_OR_RETURN(DeploymentView view,
                         service.Create(ctx.principal, std::move(spec),
                                        uploaded ? std::optional<std::string>(upload.path) : std::nullopt));
  res.set_header("Location", "/api/v1/deployments/" + view.deployment.spec.name);
  api::WriteJson(res, 201, DeploymentToJson(view).dump());
  return Status::Ok();
}

Status UpdateDeployment(DeploymentService& service, const httplib::Request& req, httplib::Response& res,
                        const RequestContext& ctx) {
  TempFile upload;
  std::string upload_name;
  STOKE_ASSIGN_OR_RETURN(json body, ReadBody(req, upload, upload_name));
  STOKE_ASSIGN_OR_RETURN(DeploymentUpdate update, ParseDeploymentUpdate(body));
  if (!upload.path.empty()) {
    if (update.model) return Status::InvalidArgument("give either a model file part or model {job, path}", "model");
    update.uploaded_model = upload.path;
    update.uploaded_name = upload_name;
  }
  STOKE_ASSIGN_OR_RETURN(DeploymentView view, service.Update(ctx.principal, req.matches[1].str(), std::move(update)));
  api::WriteJson(res, 200, DeploymentToJson(view).dump());
  return Status::Ok();
}

Status Predict(DeploymentService& service, const httplib::Request& req, httplib::Response& res,
               const RequestContext& ctx) {
  if (req.body.size() > kMaxPredictBytes) return Status::ResourceExhausted("the request body is over 64 MiB", "body");
  std::string type = req.get_header_value("Content-Type");
  if (!type.empty() && type.find("json") == std::string::npos) {
    return Status::InvalidArgument("Content-Type must be application/json", "Content-Type");
  }
  STOKE_ASSIGN_OR_RETURN(RoutedResponse out, service.Predict(ctx.principal, req.matches[1].str(), req.body));
  res.status = out.status;
  if (out.replica != 0) res.set_header("X-Stoke-Replica", std::to_string(out.replica));
  res.set_content(out.body, "application/json");
  return Status::Ok();
}

}  // namespace

Result<DeploymentSpec> ParseDeploymentSpec(const json& body, bool model_uploaded) {
  STOKE_ASSIGN_OR_RETURN(JsonObjectReader reader, JsonObjectReader::Make(body));
  DeploymentSpec spec;
  STOKE_ASSIGN_OR_RETURN(auto name, reader.String("name", 63));
  if (!name) return Err(Status::InvalidArgument("name is required", "name"));
  spec.name = *name;
  std::optional<ModelSource> model;
  STOKE_RETURN_IF_ERROR(ParseModel(reader, model));
  if (model && model_uploaded) {
    return Err(Status::InvalidArgument("give either a model file part or model {job, path}, not both", "model"));
  }
  if (!model && !model_uploaded) {
    return Err(Status::InvalidArgument("model is required: {\"job\": ID, \"path\": \"model.pt\"} or a multipart file part",
                                       "model"));
  }
  if (model) spec.model = *model;
  std::optional<ReplicaRange> replicas;
  STOKE_RETURN_IF_ERROR(ParseReplicas(reader, replicas, spec.replicas));
  if (replicas) spec.replicas = *replicas;
  std::optional<BatchingOptions> batching;
  STOKE_RETURN_IF_ERROR(ParseBatching(reader, batching, spec.batching));
  if (batching) spec.batching = *batching;
  std::optional<Resources> resources;
  STOKE_RETURN_IF_ERROR(ParseResourcesField(reader, resources, spec.resources));
  if (resources) spec.resources = *resources;
  std::optional<std::vector<int64_t>> shape;
  STOKE_RETURN_IF_ERROR(ParseInputShape(reader, shape));
  if (shape) spec.input_shape = *shape;
  STOKE_RETURN_IF_ERROR(reader.Finish());
  STOKE_RETURN_IF_ERROR(ValidateSpec(spec));
  return spec;
}

Result<DeploymentUpdate> ParseDeploymentUpdate(const json& body) {
  STOKE_ASSIGN_OR_RETURN(JsonObjectReader reader, JsonObjectReader::Make(body));
  DeploymentUpdate u;
  STOKE_RETURN_IF_ERROR(ParseModel(reader, u.model));
  // Partial objects start from neutral defaults; the service merges them over the stored spec.
  STOKE_RETURN_IF_ERROR(ParseReplicas(reader, u.replicas, ReplicaRange{}));
  STOKE_RETURN_IF_ERROR(ParseBatching(reader, u.batching, BatchingOptions{}));
  STOKE_RETURN_IF_ERROR(ParseResourcesField(reader, u.resources, Resources{}));
  STOKE_RETURN_IF_ERROR(ParseInputShape(reader, u.input_shape));
  STOKE_RETURN_IF_ERROR(reader.Finish());
  return u;
}

json DeploymentToJson(const DeploymentView& view) {
  const Deployment& d = view.deployment;
  json replicas = json::array();
  for (const auto& r : view.replicas) {
    replicas.push_back({{"job_id", r.job_id}, {"port", r.port}, {"version", r.version},
                        {"state", std::string(ReplicaPhaseName(r.phase))}, {"outstanding", r.outstanding}});
  }
  int ready = view.ready();
  json model = {{"path", d.spec.model.path}};
  if (d.spec.model.job != 0) model["job"] = d.spec.model.job;
  return {
      {"name", d.spec.name},
      {"user", d.user},
      {"version", d.version},
      {"state", ready > 0 ? "ready" : (view.replicas.empty() && view.desired == 0 ? "idle" : "starting")},
      {"model", model},
      {"replicas",
       {{"min", d.spec.replicas.min},
        {"max", d.spec.replicas.max},
        {"desired", view.desired},
        {"ready", ready},
        {"items", replicas}}},
      {"batching", {{"max_batch", d.spec.batching.max_batch}, {"max_delay_ms", d.spec.batching.max_delay_ms}}},
      {"resources",
       {{"gpus", d.spec.resources.gpus}, {"cpus", d.spec.resources.cpus}, {"memory", d.spec.resources.memory_bytes}}},
      {"input_shape", d.spec.input_shape},
      {"load", {{"mean_in_flight", view.mean_in_flight}}},
      {"predict_url", "/api/v1/deployments/" + d.spec.name + "/predict"},
      {"created_at", FormatRfc3339(d.created_at)},
      {"updated_at", FormatRfc3339(d.updated_at)},
  };
}

std::vector<api::Route> DeploymentRoutes(DeploymentService& service) {
  const std::string name = R"(/api/v1/deployments/([a-z0-9][a-z0-9-]{0,62}))";
  std::vector<api::Route> r;
  r.push_back({"POST", "/api/v1/deployments", "/api/v1/deployments",
               "Deploy a TorchScript model (JSON with model {job, path}, or multipart: spec JSON + model file)", true,
               [&service](const auto& req, auto& res, const auto& ctx) { return CreateDeployment(service, req, res, ctx); }});
  r.push_back({"GET", "/api/v1/deployments", "/api/v1/deployments", "List deployments", true,
               [&service](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(auto views, service.List(ctx.principal));
                 json out = {{"deployments", json::array()}};
                 for (const auto& v : views) out["deployments"].push_back(DeploymentToJson(v));
                 api::WriteJson(res, 200, out.dump());
                 return Status::Ok();
               }});
  r.push_back({"GET", name, "/api/v1/deployments/{name}", "Get a deployment and its replicas", true,
               [&service](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_ASSIGN_OR_RETURN(auto view, service.Get(ctx.principal, req.matches[1].str()));
                 api::WriteJson(res, 200, DeploymentToJson(view).dump());
                 return Status::Ok();
               }});
  r.push_back({"PATCH", name, "/api/v1/deployments/{name}",
               "Roll out a new model, batching or resources (new version), or change the replica range", true,
               [&service](const auto& req, auto& res, const auto& ctx) { return UpdateDeployment(service, req, res, ctx); }});
  r.push_back({"DELETE", name, "/api/v1/deployments/{name}", "Stop a deployment's replicas and delete it", true,
               [&service](const auto& req, auto& res, const auto& ctx) -> Status {
                 STOKE_RETURN_IF_ERROR(service.Delete(ctx.principal, req.matches[1].str()));
                 res.status = 204;
                 return Status::Ok();
               }});
  r.push_back({"POST", name + "/predict", "/api/v1/deployments/{name}/predict",
               "Score rows: {\"instances\": [...]} or WML {\"input_data\": [{\"values\": [...]}]}", true,
               [&service](const auto& req, auto& res, const auto& ctx) { return Predict(service, req, res, ctx); }});
  return r;
}

}  // namespace stoke::deploy
