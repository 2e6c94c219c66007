#include "engine/trainer.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "elastic/keys.h"
#include "elastic/prefix_kv_store.h"
#include "engine/dataset.h"
#include "engine/model.h"
#include "engine/shard_plan.h"

namespace stoke::engine {

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

uint64_t MixSeed(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Status WriteFileAtomically(const fs::path& path, const std::string& bytes) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Status::Unavailable("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::Unavailable("cannot rename to " + path.string() + ": " + ec.message());
  return Status::Ok();
}

// What every rank of a step reads from its all-reduce, so all act alike after the same step.
struct StepAgreement {
  int64_t newest_gen = 0;  // the newest generation any rank has seen
  int leaving = 0;         // ranks that asked to leave the job
};

// One worker's training state machine: rendezvous -> sync state -> train -> (regroup | done).
// Not thread-safe; owns the model and runs on the caller's thread.
class Trainer {
 public:
  Trainer(const TrainOptions& options, const TrainerDeps& deps) : options_(options), deps_(deps) {}

  Result<TrainSummary> Run();

 private:
  Status Setup();
  Result<TrainSummary> RunSingle();
  Result<TrainSummary> RunElastic();
  // One global step on this rank's slice; commits (optimizer step, step_++) only when every
  // collective succeeded. `agreed` gets what every rank read from the step's all-reduce.
  Status TrainStep(Communicator& comm, int64_t gen, StepAgreement* agreed);
  // Brings every rank to the state of the rank that is furthest ahead.
  Status SyncState(Communicator& comm);
  // At an epoch boundary: distributed validation, metrics and checkpoint (rank 0).
  Status EndOfEpoch(Communicator& comm, int64_t gen);
  // Rank 0's checkpoint.pt: the committed state at step_ (the data cursor is a function of it).
  Status WriteCheckpoint();
  bool StopRequested() const { return deps_.stop != nullptr && deps_.stop->load(); }
  // Ends training on a stop request, after writing a checkpoint when asked to.
  Result<TrainSummary> Stop(bool checkpoint);
  Status Finish(int rank);
  void WriteMetrics(const nlohmann::json& line);
  // Gradient buckets (PlanBuckets once; PrepareBuckets each multi-rank step). A bucket's
  // all-reduce starts once all its parameters' slots are filled, in bucket order.
  void PlanBuckets();
  void PrepareBuckets(int world);
  // Copies parameter i's gradient into its bucket slot: `pass_grad` from inside backward, or
  // null for the accumulated .grad after it.
  Status FillBucketSlot(Communicator& comm, size_t i, const at::Tensor* pass_grad);
  Status StartReadyBuckets(Communicator& comm, size_t limit);
  // Rank 0's per-step line (loss, lr, world, samples/s), throttled.
  void WriteStepMetrics(double loss, double lr, int64_t batch, int world);
  void Audit(const std::string& line);

  const TrainOptions options_;
  const TrainerDeps deps_;
  Dataset train_, val_;
  std::optional<ShardPlan> plan_;
  std::unique_ptr<Model> model_;
  int64_t total_steps_ = 0;
  int64_t step_ = 0;
  bool has_state_ = false;  // trained or restored at least once (vs. a fresh process)
  int last_rank_ = -1;      // rank in the newest generation this worker trained in
  bool leaving_ = false;    // asked the coordinator to leave; trains on until released
  Clock::time_point leave_deadline_;
  std::vector<size_t> bucket_of_;       // parameter -> bucket
  std::vector<int64_t> param_offset_;   // parameter -> offset in its bucket
  std::vector<int64_t> bucket_numel_;   // gradient elements per bucket
  std::vector<int> buckets_;            // parameters per bucket
  std::vector<at::Tensor> flats_;       // this step's buckets
  std::vector<int> bucket_missing_;     // parameters not yet filled, per bucket
  std::vector<char> bucket_filled_;     // per parameter
  size_t next_bucket_ = 0;              // buckets started so far this step
  Clock::time_point window_start_{};  // per-step metrics window
  int64_t window_samples_ = 0;
  double epoch_loss_sum_ = 0;
  int64_t epoch_loss_steps_ = 0;
  TrainSummary summary_;
  std::FILE* audit_ = nullptr;
  std::unique_ptr<std::ofstream> metrics_;
};

Status Trainer::Setup() {
  if (options_.threads > 0) torch::set_num_threads(options_.threads);
  LabelType labels = options_.loss == LossKind::kCrossEntropy ? LabelType::kClass
                     : options_.loss == LossKind::kModule     ? LabelType::kAuto
                                                              : LabelType::kFloat;
  STOKE_ASSIGN_OR_RETURN(train_, LoadDataset(options_.train_path, options_.data, labels));
  if (!options_.val_path.empty()) {
    STOKE_ASSIGN_OR_RETURN(val_, LoadDataset(options_.val_path, options_.data, labels));
  }
  STOKE_ASSIGN_OR_RETURN(auto plan, ShardPlan::Create({.dataset_size = train_.size(),
                                                       .global_batch = options_.global_batch,
                                                       .seed = options_.seed,
                                                       .shuffle = options_.shuffle}));
  plan_.emplace(std::move(plan));
  total_steps_ = options_.max_steps > 0 ? options_.max_steps : options_.epochs * plan_->steps_per_epoch();
  STOKE_ASSIGN_OR_RETURN(model_, Model::Load(options_));
  for (const auto& p : model_->parameters()) {
    if (p.scalar_type() != at::kFloat) return Status::InvalidArgument("only float32 parameters are supported", "model");
  }
  if (!options_.output_dir.empty()) {
    std::error_code ec;
    fs::create_directories(options_.output_dir, ec);
    fs::path ckpt = fs::path(options_.output_dir) / "checkpoint.pt";
    if (options_.resume && fs::exists(ckpt)) {
      std::ifstream in(ckpt, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      STOKE_ASSIGN_OR_RETURN(step_, model_->LoadState(bytes));
      has_state_ = true;
      spdlog::info("resumed from {} at step {}", ckpt.string(), step_);
    }
  }
  if (!options_.audit_dir.empty()) {
    std::error_code ec;
    fs::create_directories(options_.audit_dir, ec);
    int64_t id = deps_.membership ? deps_.membership->worker_id() : 0;
    audit_ = std::fopen((fs::path(options_.audit_dir) / ("w" + std::to_string(id) + ".log")).c_str(), "a");
  }
  return Status::Ok();
}

void Trainer::Audit(const std::string& line) {
  if (!audit_) return;
  std::fputs(line.c_str(), audit_);
  std::fputc('\n', audit_);
  std::fflush(audit_);
}

void Trainer::WriteMetrics(const nlohmann::json& line) {
  if (options_.output_dir.empty()) return;
  if (!metrics_) {
    metrics_ = std::make_unique<std::ofstream>(fs::path(options_.output_dir) / "metrics.jsonl", std::ios::app);
  }
  *metrics_ << line.dump() << '\n';
  metrics_->flush();
}

Status Trainer::TrainStep(Communicator& comm, int64_t gen, StepAgreement* agreed) {
  const auto started = Clock::now();
  struct AddTime {
    Clock::time_point start;
    double& total;
    ~AddTime() { total += std::chrono::duration<double>(Clock::now() - start).count(); }
  } add_time{started, summary_.train_seconds};
  const int world = comm.world_size(), rank = comm.rank();
  const int64_t step = step_;
  const int64_t batch = plan_->StepBatchSize(step);
  std::vector<int64_t> samples = plan_->RankSamples(step, world, rank);
  // Randomness inside the model (dropout) is a function of (seed, step, rank), so a redone
  // step draws the same numbers.
  torch::manual_seed(MixSeed(options_.seed, MixSeed(static_cast<uint64_t>(step), static_cast<uint64_t>(rank))));
  model_->ZeroGrad();
  double loss_sum = 0;
  const auto micros = SplitMicroBatches(samples, options_.max_micro_batch);
  if (world > 1) PrepareBuckets(world);
  Status backward;
  for (size_t m = 0; m < micros.size() && backward.ok(); ++m) {
    const auto& micro = micros[m];
    auto idx = torch::from_blob(const_cast<int64_t*>(micro.data()), {static_cast<int64_t>(micro.size())}, torch::kLong);
    auto x = train_.x.index_select(0, idx);
    auto y = train_.y.index_select(0, idx);
    const double n = static_cast<double>(micro.size());
    // The last micro-batch's backward completes the gradients: its buckets go out as they fill.
    const bool overlap = world > 1 && options_.overlap_backward && buckets_.size() > 1 && m + 1 == micros.size();
    if (overlap) {
      model_->SetGradientHook([&](size_t i, const at::Tensor& grad) {
        if (Status s = FillBucketSlot(comm, i, &grad); !s.ok() && backward.ok()) backward = s;
      });
    }
    // Each rank adds (its samples / global batch) of the mean loss: the all-reduced SUM is then
    // exactly the gradient of the global batch's mean loss, whatever the world size.
    auto loss = model_->ForwardBackward(x, y, n / static_cast<double>(batch));
    if (overlap) model_->SetGradientHook(nullptr);
    if (!loss.has_value()) {
      backward = loss.error();
    } else {
      loss_sum += *loss * n;
    }
  }
  if (!backward.ok()) {
    (void)comm.WaitStarted();  // nothing stays in flight
    return backward;
  }
  if (audit_) {
    std::string line = "C " + std::to_string(gen) + " " + std::to_string(step) + " " + std::to_string(world) + " " +
                       std::to_string(rank);
    for (int64_t s : samples) line += " " + std::to_string(s);
    Audit(line);
  }
  const int64_t latest = deps_.membership ? deps_.membership->latest_generation() : 0;
  double global_loss = loss_sum / static_cast<double>(batch);
  int64_t newest = latest;
  int leaving = leaving_ ? 1 : 0;
  if (world > 1) {
    summary_.overlapped_buckets += static_cast<int64_t>(next_bucket_);
    // Parameters backward did not reach (or every one, without overlap) fill their slots now.
    for (size_t i = 0; i < bucket_of_.size(); ++i) {
      if (!bucket_filled_[i]) STOKE_RETURN_IF_ERROR(FillBucketSlot(comm, i, nullptr));
    }
    // The last bucket carries `world` slots for the newest generation each rank has seen, one for
    // the loss and one counting the ranks that are leaving, so agreeing on a regroup or a stop
    // costs no extra collective.
    at::Tensor& last = flats_.back();
    const int64_t off = bucket_numel_.back();
    last[off + rank] = static_cast<float>(latest);
    last[off + world] = static_cast<float>(loss_sum / static_cast<double>(batch));
    last[off + world + 1] = static_cast<float>(leaving);
    Status started = StartReadyBuckets(comm, flats_.size());
    Status waited = comm.WaitStarted();
    STOKE_RETURN_IF_ERROR(started);
    STOKE_RETURN_IF_ERROR(waited);
    std::vector<at::Tensor> grads = model_->Gradients();
    for (size_t i = 0; i < grads.size(); ++i) {
      grads[i].view({-1}).copy_(flats_[bucket_of_[i]].narrow(0, param_offset_[i], grads[i].numel()));
    }
    newest = static_cast<int64_t>(last.narrow(0, off, world).max().item<float>());
    global_loss = last[off + world].item<double>();
    leaving = static_cast<int>(std::lround(last[off + world + 1].item<double>()));
  }
  const double lr = LearningRate(options_.lr, step, total_steps_);
  STOKE_RETURN_IF_ERROR(model_->OptimizerStep(lr));
  ++step_;
  has_state_ = true;
  ++summary_.steps_trained_here;
  epoch_loss_sum_ += global_loss;
  ++epoch_loss_steps_;
  if (rank == 0) WriteStepMetrics(global_loss, lr, batch, world);
  if (audit_) Audit("K " + std::to_string(gen) + " " + std::to_string(step));
  *agreed = {.newest_gen = newest, .leaving = leaving};
  return Status::Ok();
}

void Trainer::PlanBuckets() {
  // Buckets in reverse parameter order (the order backward produces gradients), cut at bucket_bytes.
  const auto& params = model_->parameters();
  std::vector<std::vector<size_t>> members;
  int64_t bytes = 0;
  for (size_t i = params.size(); i-- > 0;) {
    if (members.empty() || bytes >= options_.bucket_bytes) {
      members.emplace_back();
      bytes = 0;
    }
    members.back().push_back(i);
    bytes += params[i].numel() * 4;
  }
  bucket_of_.assign(params.size(), 0);
  param_offset_.assign(params.size(), 0);
  for (size_t b = 0; b < members.size(); ++b) {
    int64_t off = 0;
    for (size_t i : members[b]) {
      bucket_of_[i] = b;
      param_offset_[i] = off;
      off += params[i].numel();
    }
    bucket_numel_.push_back(off);
    buckets_.push_back(static_cast<int>(members[b].size()));
  }
}

void Trainer::PrepareBuckets(int world) {
  if (buckets_.empty()) PlanBuckets();
  flats_.clear();
  for (size_t b = 0; b < buckets_.size(); ++b) {
    const bool last = b + 1 == buckets_.size();
    flats_.push_back(torch::zeros({bucket_numel_[b] + (last ? world + 2 : 0)}, torch::kFloat));
  }
  bucket_missing_ = buckets_;
  bucket_filled_.assign(bucket_of_.size(), 0);
  next_bucket_ = 0;
}

Status Trainer::FillBucketSlot(Communicator& comm, size_t i, const at::Tensor* pass_grad) {
  const at::Tensor& param = model_->parameters()[i];
  auto slot = flats_[bucket_of_[i]].narrow(0, param_offset_[i], param.numel());
  if (pass_grad != nullptr) {
    // Inside backward: this pass's gradient plus what .grad holds from earlier micro-batches.
    slot.copy_(pass_grad->reshape({-1}));
    if (param.grad().defined()) slot.add_(param.grad().reshape({-1}));
  } else if (param.grad().defined()) {
    slot.copy_(param.grad().reshape({-1}));
  }
  bucket_filled_[i] = 1;
  --bucket_missing_[bucket_of_[i]];
  // The last bucket waits for the agreement slots, written after backward.
  return StartReadyBuckets(comm, flats_.size() - 1);
}

Status Trainer::StartReadyBuckets(Communicator& comm, size_t limit) {
  // In bucket order on every rank, whatever order the gradients arrived in.
  while (next_bucket_ < limit && bucket_missing_[next_bucket_] == 0) {
    STOKE_RETURN_IF_ERROR(comm.StartAllReduceSum(flats_[next_bucket_]));
    ++next_bucket_;
  }
  return Status::Ok();
}

void Trainer::WriteStepMetrics(double loss, double lr, int64_t batch, int world) {
  // Every step would be thousands of lines a second for small models: at most one line per
  // kStepMetricsPeriod, plus the last step, each with the samples/s over its window.
  constexpr auto kStepMetricsPeriod = std::chrono::milliseconds(100);
  const auto now = Clock::now();
  window_samples_ += batch;
  if (window_start_ == Clock::time_point{}) window_start_ = now;
  if (now - window_start_ < kStepMetricsPeriod && step_ < total_steps_) return;
  const double seconds = std::chrono::duration<double>(now - window_start_).count();
  WriteMetrics({{"step", step_},
                {"loss", loss},
                {"lr", lr},
                {"world", world},
                {"samples_per_s", seconds > 0 ? static_cast<double>(window_samples_) / seconds : 0.0}});
  window_start_ = now;
  window_samples_ = 0;
}

Status Trainer::SyncState(Communicator& comm) {
  if (comm.world_size() == 1) return Status::Ok();
  auto steps = torch::zeros({comm.world_size()}, torch::kLong);
  steps[comm.rank()] = has_state_ ? step_ + 1 : 0;
  std::vector<at::Tensor> one{steps};
  STOKE_RETURN_IF_ERROR(comm.AllReduceSum(one));
  const int src = static_cast<int>(steps.argmax().item<int64_t>());
  if (steps.eq(steps[src]).all().item<bool>()) return Status::Ok();  // everyone already agrees
  std::string bytes;
  if (comm.rank() == src) {
    STOKE_ASSIGN_OR_RETURN(bytes, model_->SaveState(step_));
  }
  auto size = torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kLong);
  STOKE_RETURN_IF_ERROR(comm.Broadcast(size, src));
  auto data = torch::empty({size.item<int64_t>()}, torch::kUInt8);
  if (comm.rank() == src) std::memcpy(data.data_ptr(), bytes.data(), bytes.size());
  STOKE_RETURN_IF_ERROR(comm.Broadcast(data, src));
  if (comm.rank() != src) {
    std::string received(static_cast<const char*>(data.data_ptr()), static_cast<size_t>(data.numel()));
    STOKE_ASSIGN_OR_RETURN(step_, model_->LoadState(received));
    has_state_ = true;
    epoch_loss_sum_ = 0;
    epoch_loss_steps_ = 0;
  }
  return Status::Ok();
}

Status Trainer::EndOfEpoch(Communicator& comm, int64_t gen) {
  const int64_t epoch = (step_ - 1) / plan_->steps_per_epoch();
  nlohmann::json line{{"step", step_}, {"epoch", epoch}, {"world", comm.world_size()}, {"generation", gen}};
  if (epoch_loss_steps_ > 0) {
    summary_.train_loss = epoch_loss_sum_ / static_cast<double>(epoch_loss_steps_);
    line["train_loss"] = summary_.train_loss;
  }
  epoch_loss_sum_ = 0;
  epoch_loss_steps_ = 0;
  if (val_.size() > 0) {
    const int64_t n = val_.size(), w = comm.world_size(), r = comm.rank();
    const int64_t begin = n * r / w, end = n * (r + 1) / w;
    EvalTotals mine;
    if (end > begin) {
      STOKE_ASSIGN_OR_RETURN(mine, model_->Evaluate(val_.x.slice(0, begin, end), val_.y.slice(0, begin, end), 512));
    }
    auto totals = torch::tensor({mine.loss_sum, static_cast<double>(mine.correct), static_cast<double>(mine.count)},
                                torch::kDouble);
    std::vector<at::Tensor> one{totals};
    STOKE_RETURN_IF_ERROR(comm.AllReduceSum(one));
    const double count = totals[2].item<double>();
    summary_.val_loss = totals[0].item<double>() / count;
    summary_.val_accuracy = totals[1].item<double>() / count;
    line["val_loss"] = summary_.val_loss;
    if (options_.loss == LossKind::kCrossEntropy || options_.loss == LossKind::kBceWithLogits) {
      line["val_accuracy"] = summary_.val_accuracy;
    }
  }
  if (comm.rank() == 0) {
    spdlog::info("epoch {} step {} world {} train_loss {:.4f} val_loss {:.4f} val_acc {:.4f}", epoch, step_,
                 comm.world_size(), summary_.train_loss, summary_.val_loss, summary_.val_accuracy);
    WriteMetrics(line);
    STOKE_RETURN_IF_ERROR(WriteCheckpoint());
  }
  return Status::Ok();
}

Status Trainer::WriteCheckpoint() {
  if (options_.output_dir.empty()) return Status::Ok();
  STOKE_ASSIGN_OR_RETURN(std::string bytes, model_->SaveState(step_));
  return WriteFileAtomically(fs::path(options_.output_dir) / "checkpoint.pt", bytes);
}

Result<TrainSummary> Trainer::Stop(bool checkpoint) {
  if (checkpoint) {
    STOKE_RETURN_IF_ERROR(WriteCheckpoint());
    spdlog::info("checkpoint written at step {}", step_);
  }
  summary_.outcome = TrainOutcome::kStopped;
  summary_.steps = step_;
  return summary_;
}

Status Trainer::Finish(int rank) {
  summary_.steps = step_;
  if (rank != 0 || options_.output_dir.empty()) return Status::Ok();
  fs::path final_model = fs::path(options_.output_dir) / "model.pt";
  fs::path tmp = final_model;
  tmp += ".tmp";
  STOKE_RETURN_IF_ERROR(model_->SaveTorchScript(tmp.string()));
  std::error_code ec;
  fs::rename(tmp, final_model, ec);
  if (ec) return Status::Unavailable("cannot write " + final_model.string());
  return Status::Ok();
}

Result<TrainSummary> Trainer::RunSingle() {
  LocalCommunicator comm;
  while (step_ < total_steps_) {
    if (StopRequested()) {
      spdlog::warn("stop requested: stopping at step {} of {}", step_, total_steps_);
      return Stop(/*checkpoint=*/true);
    }
    StepAgreement agreed;
    STOKE_RETURN_IF_ERROR(TrainStep(comm, 0, &agreed));
    if (step_ % plan_->steps_per_epoch() == 0 || step_ == total_steps_) STOKE_RETURN_IF_ERROR(EndOfEpoch(comm, 0));
  }
  STOKE_RETURN_IF_ERROR(Finish(0));
  return summary_;
}

Result<TrainSummary> Trainer::RunElastic() {
  elastic::MembershipClient& membership = *deps_.membership;
  int64_t min_gen = 1;  // after a failure: the next generation at the earliest
  int64_t target = 0;   // after a clean agreement: exactly this generation
  while (true) {
    const auto regroup_start = Clock::now();
    elastic::Membership m;
    if (target > 0) {
      STOKE_ASSIGN_OR_RETURN(m, membership.MembershipOf(target));
      if (m.rank < 0) {
        spdlog::info("worker {} released by generation {}", membership.worker_id(), target);
        summary_.outcome = TrainOutcome::kReleased;
        summary_.steps = step_;
        return summary_;
      }
    } else {
      // Waits in slices so that a stop request is noticed while waiting.
      const auto give_up = Clock::now() + std::chrono::minutes(30);
      Result<elastic::Membership> r = Err(Status::DeadlineExceeded("no generation includes this worker"));
      while (!StopRequested()) {
        r = membership.AwaitGeneration(min_gen, std::chrono::milliseconds(200));
        if (r.has_value() || r.error().code() != StatusCode::kDeadlineExceeded || Clock::now() >= give_up) break;
      }
      if (StopRequested()) {
        // Between generations nothing is in flight: leave at once. A worker that never trained
        // (standby) loses nothing; one holding state keeps it in a checkpoint if it was rank 0.
        (void)membership.RequestLeave();
        summary_.steps = step_;
        if (last_rank_ < 0) {
          spdlog::info("worker {} stopped while on standby: released", membership.worker_id());
          summary_.outcome = TrainOutcome::kReleased;
          return summary_;
        }
        spdlog::warn("worker {} stopped between generations at step {}", membership.worker_id(), step_);
        return Stop(/*checkpoint=*/last_rank_ == 0);
      }
      if (!r.has_value()) {
        summary_.steps = step_;
        if (r.error().code() == StatusCode::kCancelled) return summary_;  // job over
        if (r.error().code() == StatusCode::kFailedPrecondition) {
          summary_.outcome = TrainOutcome::kReleased;
          return summary_;
        }
        return Err(r.error());
      }
      m = *r;
    }
    target = 0;
    elastic::PrefixKvStore scope(elastic::keys::GenerationScope(m.generation), *deps_.job_store);
    GlooOptions gloo = deps_.gloo;
    gloo.timeout = options_.collective_timeout;
    const int64_t gen = m.generation;
    gloo.abandon = [&membership, gen] { return membership.latest_generation() > gen; };
    auto comm = CreateGlooCommunicator(scope, m.rank, m.world_size, gloo);
    Status status = comm.has_value() ? SyncState(**comm) : comm.error();
    if (!status.ok()) {
      spdlog::warn("worker {} generation {} setup failed: {}", membership.worker_id(), gen, status.ToString());
      if (membership.latest_generation() <= gen) (void)membership.ReportFailure(gen);
      min_gen = gen + 1;
      continue;
    }
    ++summary_.regroups;
    last_rank_ = m.rank;
    summary_.regroup_ms.push_back(MillisSince(regroup_start));
    spdlog::info("worker {} rank {}/{} generation {} at step {} ({:.0f} ms)", membership.worker_id(), m.rank,
                 m.world_size, gen, step_, summary_.regroup_ms.back());
    if (m.rank == 0) {
      WriteMetrics({{"event", "regroup"}, {"generation", gen}, {"world", m.world_size}, {"step", step_},
                    {"latency_ms", summary_.regroup_ms.back()},
                    {"t_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count()}});
    }
    while (true) {
      if (step_ >= total_steps_) {
        STOKE_RETURN_IF_ERROR(Finish(m.rank));
        if (m.rank == 0) (void)membership.FinishJob("ok");
        return summary_;
      }
      if (StopRequested() && !leaving_) {
        // Graceful leave: the coordinator publishes a generation without this worker, all ranks
        // switch to it after the same step (below), and this worker finds itself released.
        Status s = membership.RequestLeave();
        if (!s.ok()) spdlog::warn("worker {} cannot request its leave: {}", membership.worker_id(), s.ToString());
        leaving_ = true;
        leave_deadline_ = Clock::now() + options_.leave_timeout;
        spdlog::info("worker {} asked to stop: leaving the job at step {} (rank {}/{}, generation {})",
                     membership.worker_id(), step_, m.rank, m.world_size, gen);
      }
      StepAgreement agreed;
      status = TrainStep(**comm, gen, &agreed);
      if (status.ok() && (step_ % plan_->steps_per_epoch() == 0 || step_ == total_steps_)) {
        status = EndOfEpoch(**comm, gen);
      }
      if (!status.ok()) {
        // A peer is gone or the group broke. Uncommitted work is simply dropped: parameters
        // and optimizer state only change after every bucket was reduced.
        spdlog::warn("worker {} step {} failed in generation {}: {}", membership.worker_id(), step_, gen,
                     status.ToString());
        ++summary_.failed_steps;
        (void)membership.ReportFailure(gen);
        min_gen = gen + 1;
        break;
      }
      if (agreed.leaving == m.world_size) {
        // Every rank is leaving (the job is being stopped, or its last member leaves): no
        // generation can follow, so all stop after this same step and rank 0 keeps the state.
        spdlog::warn("worker {} stopping with all {} rank(s) of generation {} at step {}", membership.worker_id(),
                     m.world_size, gen, step_);
        return Stop(/*checkpoint=*/m.rank == 0);
      }
      if (agreed.newest_gen > gen) {
        target = agreed.newest_gen;  // every rank saw the same reduced value: all switch after this step
        break;
      }
      if (leaving_ && Clock::now() >= leave_deadline_) {
        spdlog::warn(
            "worker {} leave not granted within {} ms (the job cannot shrink below its minimum); stopping at step {}",
            membership.worker_id(), options_.leave_timeout.count(), step_);
        return Stop(/*checkpoint=*/m.world_size == 1 && m.rank == 0);
      }
    }
  }
}

Result<TrainSummary> Trainer::Run() {
  STOKE_RETURN_IF_ERROR(Setup());
  auto result = deps_.job_store ? RunElastic() : RunSingle();
  if (audit_) std::fclose(audit_);
  audit_ = nullptr;
  return result;
}

}  // namespace

Result<TrainSummary> Train(const TrainOptions& options, const TrainerDeps& deps) {
  if ((deps.job_store == nullptr) != (deps.membership == nullptr)) {
    return Err(Status::InvalidArgument("job_store and membership go together"));
  }
  Trainer trainer(options, deps);
  try {
    return trainer.Run();
  } catch (const c10::Error& e) {
    return Err(Status::Internal(std::string("training: ") + e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return Err(Status::Internal(std::string("training: ") + e.what()));
  }
}

}  // namespace stoke::engine
