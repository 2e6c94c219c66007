#include "hpo/searcher.h"

#include "hpo/grid_sampler.h"
#include "hpo/methods/pruned_search.h"
#include "hpo/methods/single_fidelity_search.h"
#include "hpo/random_sampler.h"
#include "hpo/snapshot_codec.h"

namespace stoke::hpo {

Status Validate(const ExperimentConfig& config) {
  STOKE_RETURN_IF_ERROR(Validate(config.space));
  const BudgetOptions& b = config.budget;
  if (b.max_trials < 1) return Status::InvalidArgument("max_trials must be >= 1", "budget.max_trials");
  if (b.max_parallel < 1) return Status::InvalidArgument("max_parallel must be >= 1", "budget.max_parallel");
  if (b.max_retries < 0) return Status::InvalidArgument("max_retries must be >= 0", "budget.max_retries");
  if (b.max_resource < 0) return Status::InvalidArgument("max_resource must be >= 0", "budget.max_resource");
  if (config.sampler == SamplerKind::kGrid) {
    if (auto capacity = GridSampler().Capacity(config.space); !capacity) return capacity.error();
  }
  if (config.sampler == SamplerKind::kTpe) {
    const TpeOptions& t = config.tpe;
    if (t.n_startup_trials < 0) return Status::InvalidArgument("n_startup_trials must be >= 0", "tpe.n_startup_trials");
    if (t.n_ei_candidates < 1) return Status::InvalidArgument("n_ei_candidates must be >= 1", "tpe.n_ei_candidates");
    if (!(t.gamma > 0 && t.gamma <= 1)) return Status::InvalidArgument("gamma must be in (0, 1]", "tpe.gamma");
    if (t.gamma_max < 1) return Status::InvalidArgument("gamma_max must be >= 1", "tpe.gamma_max");
    if (!(t.prior_weight > 0)) return Status::InvalidArgument("prior_weight must be > 0", "tpe.prior_weight");
  }
  if (config.sampler == SamplerKind::kGp) STOKE_RETURN_IF_ERROR(GpSampler::Validate(config.gp).WithFieldPrefix("gp"));
  if (config.method != MethodKind::kSingleFidelity) {
    STOKE_RETURN_IF_ERROR(SuccessiveHalvingSearch::Validate(config.halving).WithFieldPrefix("halving"));
  }
  if (const auto& m = config.median_stopping) {
    if (m->n_startup_trials < 0) {
      return Status::InvalidArgument("n_startup_trials must be >= 0", "median_stopping.n_startup_trials");
    }
    if (m->min_trials_at_step < 1) {
      return Status::InvalidArgument("min_trials_at_step must be >= 1", "median_stopping.min_trials_at_step");
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Sampler>> MakeSampler(const ExperimentConfig& config) {
  switch (config.sampler) {
    case SamplerKind::kGrid: return std::make_unique<GridSampler>();
    case SamplerKind::kRandom: return std::make_unique<RandomSampler>();
    case SamplerKind::kTpe: return std::make_unique<TpeSampler>(config.tpe);
    case SamplerKind::kGp: return std::make_unique<GpSampler>(config.gp);
  }
  return Err(Status::InvalidArgument("unknown sampler", "sampler"));
}

Result<std::unique_ptr<SearchMethod>> MakeSearchMethod(const ExperimentConfig& config) {
  STOKE_RETURN_IF_ERROR(Validate(config));
  STOKE_ASSIGN_OR_RETURN(std::unique_ptr<Sampler> sampler, MakeSampler(config));
  std::unique_ptr<SearchMethod> method;
  switch (config.method) {
    case MethodKind::kSingleFidelity:
      method = std::make_unique<SingleFidelitySearch>(std::move(sampler), config.budget);
      break;
    case MethodKind::kAsha:
    case MethodKind::kHyperband: {
      SuccessiveHalvingOptions halving = config.halving;
      if (config.method == MethodKind::kAsha) halving.num_brackets = 1;
      if (config.method == MethodKind::kHyperband && halving.num_brackets == 1) halving.num_brackets = 0;
      method = std::make_unique<SuccessiveHalvingSearch>(std::move(sampler), config.budget, halving);
      break;
    }
  }
  if (config.median_stopping) {
    method = std::make_unique<PrunedSearch>(std::move(method),
                                            std::make_unique<MedianStoppingPruner>(*config.median_stopping));
  }
  return method;
}

Searcher::Searcher(ExperimentConfig config, std::unique_ptr<SearchMethod> method)
    : config_(std::move(config)), method_(std::move(method)), rng_(config_.seed) {}

Result<std::unique_ptr<Searcher>> Searcher::Create(ExperimentConfig config) {
  STOKE_ASSIGN_OR_RETURN(std::unique_ptr<SearchMethod> method, MakeSearchMethod(config));
  return std::unique_ptr<Searcher>(new Searcher(std::move(config), std::move(method)));
}

Result<std::unique_ptr<Searcher>> Searcher::Restore(ExperimentConfig config, std::string_view snapshot) {
  STOKE_ASSIGN_OR_RETURN(std::unique_ptr<Searcher> searcher, Create(std::move(config)));
  SnapshotReader r(snapshot);
  STOKE_RETURN_IF_ERROR(r.Expect("stoke-hpo-searcher"));
  STOKE_RETURN_IF_ERROR(r.Expect("v1"));
  STOKE_ASSIGN_OR_RETURN(uint64_t seed, r.U64());
  if (seed != searcher->config_.seed) return Err(Status::InvalidArgument("snapshot was taken with another seed"));
  STOKE_ASSIGN_OR_RETURN(std::string rng, r.Str());
  STOKE_ASSIGN_OR_RETURN(std::string method, r.Str());
  if (!r.AtEnd()) return Err(Status::InvalidArgument("malformed snapshot: trailing data"));
  STOKE_RETURN_IF_ERROR(searcher->rng_.Deserialize(rng));
  STOKE_RETURN_IF_ERROR(searcher->method_->Restore(method));
  return searcher;
}

Result<std::vector<Action>> Searcher::Start() {
  SearchContext ctx{rng_, config_.space};
  return method_->Start(ctx);
}

Result<std::vector<Action>> Searcher::OnEvent(const Event& event) {
  SearchContext ctx{rng_, config_.space};
  return method_->OnEvent(ctx, event);
}

Result<std::string> Searcher::Snapshot() const {
  STOKE_ASSIGN_OR_RETURN(std::string method, method_->Snapshot());
  SnapshotWriter w;
  w.Label("stoke-hpo-searcher").Label("v1").U64(config_.seed).Str(rng_.Serialize()).NewLine();
  w.Str(method).NewLine();
  return w.Take();
}

}  // namespace stoke::hpo
