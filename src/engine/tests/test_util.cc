#include "engine/tests/test_util.h"

#include <torch/script.h>
#include <torch/torch.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "engine/npy.h"

namespace stoke::engine::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("stoke_engine_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void WriteTinyModel(const std::string& path, int64_t features, int64_t classes, uint64_t seed) {
  torch::manual_seed(seed);
  torch::jit::Module m("TinyNet");
  m.register_parameter("w1", torch::randn({16, features}) * 0.3, false);
  m.register_parameter("b1", torch::zeros({16}), false);
  m.register_parameter("w2", torch::randn({classes, 16}) * 0.3, false);
  m.register_parameter("b2", torch::zeros({classes}), false);
  m.define(R"JIT(
def forward(self, x):
    h = torch.relu(torch.matmul(x, self.w1.t()) + self.b1)
    return torch.matmul(h, self.w2.t()) + self.b2

def loss(self, x, y):
    return torch.nll_loss(torch.log_softmax(self.forward(x), 1), y)
)JIT");
  m.save(path);
}

void WriteBlobs(const std::string& path, int64_t n, int64_t features, int64_t classes, uint64_t noise_seed) {
  torch::manual_seed(1000);  // the same class centers in every split
  auto centers = torch::randn({classes, features}) * 2.0;
  torch::manual_seed(noise_seed);
  auto y = torch::arange(n, torch::kLong).remainder(classes);
  // Overlapping classes: the loss stays well above zero, so gradients never vanish and runs
  // that differ in float rounding keep being compared on live dynamics.
  auto x = centers.index_select(0, y) + torch::randn({n, features}) * 2.0;
  NpyArray xa, ya;
  xa.type = NpyType::kFloat32;
  xa.shape = {n, features};
  xa.data.assign(static_cast<const char*>(x.contiguous().data_ptr()), static_cast<size_t>(x.numel()) * 4);
  ya.type = NpyType::kInt64;
  ya.shape = {n};
  ya.data.assign(static_cast<const char*>(y.data_ptr()), static_cast<size_t>(n) * 8);
  if (!WriteNpzFile(path, {{"x", xa}, {"y", ya}}).ok()) throw std::runtime_error("cannot write " + path);
}

TrainOptions TinyJob(const TempDir& dir, int64_t train_size) {
  WriteTinyModel(dir / "model.pt", 8, 3, 7);
  WriteBlobs(dir / "train.npz", train_size, 8, 3, 11);
  WriteBlobs(dir / "val.npz", 60, 8, 3, 12);
  TrainOptions o;
  o.model_path = dir / "model.pt";
  o.train_path = dir / "train.npz";
  o.val_path = dir / "val.npz";
  o.output_dir = dir / "out";
  o.lr.base_lr = 0.05;
  o.momentum = 0.9;
  o.global_batch = 24;
  o.epochs = 3;
  o.seed = 5;
  o.threads = 1;
  o.collective_timeout = std::chrono::milliseconds(3000);
  return o;
}

at::Tensor FlatParameters(const std::string& model_path) {
  auto m = torch::jit::load(model_path);
  std::vector<at::Tensor> flat;
  for (const auto& p : m.parameters()) flat.push_back(p.detach().reshape({-1}));
  return torch::cat(flat);
}

double RelativeDifference(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

}  // namespace stoke::engine::testing

#include <fstream>
#include <map>
#include <sstream>

#include "engine/shard_plan.h"

namespace stoke::engine::testing {

AuditReport CheckAudit(const std::string& audit_dir, int64_t dataset_size, int64_t global_batch, uint64_t seed,
                       int64_t total_steps) {
  AuditReport report;
  struct Contribution {
    int world, rank;
    std::vector<int64_t> samples;
  };
  std::map<std::pair<int64_t, int64_t>, std::vector<Contribution>> contributions;  // (gen, step)
  std::map<int64_t, std::set<int64_t>> committed;                                   // step -> gens
  for (const auto& entry : fs::directory_iterator(audit_dir)) {
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      std::istringstream ss(line);
      char kind;
      int64_t gen, step;
      if (!(ss >> kind >> gen >> step)) continue;  // a torn last line of a killed worker
      if (kind == 'K') committed[step].insert(gen);
      if (kind == 'C') {
        Contribution c;
        if (!(ss >> c.world >> c.rank)) continue;
        for (int64_t s; ss >> s;) c.samples.push_back(s);
        contributions[{gen, step}].push_back(std::move(c));
      }
    }
  }
  auto plan = *ShardPlan::Create({.dataset_size = dataset_size, .global_batch = global_batch, .seed = seed});
  std::map<int64_t, std::vector<int64_t>> per_epoch_counts;
  for (int64_t step = 0; step < total_steps; ++step) {
    auto it = committed.find(step);
    if (it == committed.end()) {
      report.problem = "step " + std::to_string(step) + " never committed";
      return report;
    }
    if (it->second.size() > 1) ++report.redone_steps;
    const int64_t gen = *it->second.rbegin();
    auto& parts = contributions[{gen, step}];
    if (parts.empty()) {
      report.problem = "no contributions for step " + std::to_string(step);
      return report;
    }
    const int world = parts.front().world;
    std::vector<const Contribution*> by_rank(static_cast<size_t>(world), nullptr);
    for (const auto& p : parts) {
      if (p.world != world || p.rank < 0 || p.rank >= world || by_rank[p.rank] != nullptr) {
        report.problem = "inconsistent contributions at step " + std::to_string(step);
        return report;
      }
      by_rank[p.rank] = &p;
    }
    std::vector<int64_t> global;
    for (const auto* p : by_rank) {
      if (!p) {
        report.problem = "a rank is missing at step " + std::to_string(step);
        return report;
      }
      global.insert(global.end(), p->samples.begin(), p->samples.end());
    }
    if (global != plan.RankSamples(step, 1, 0)) {
      report.problem = "step " + std::to_string(step) + " did not use its global batch";
      return report;
    }
    report.world_sizes.insert(world);
    auto& counts = per_epoch_counts[plan.Position(step).epoch];
    if (counts.empty()) counts.assign(static_cast<size_t>(dataset_size), 0);
    for (int64_t s : global) ++counts[static_cast<size_t>(s)];
  }
  for (const auto& [epoch, counts] : per_epoch_counts) {
    const bool complete = (epoch + 1) * plan.steps_per_epoch() <= total_steps;
    for (size_t i = 0; i < counts.size(); ++i) {
      if (counts[i] > 1 || (complete && counts[i] != 1)) {
        report.problem = "sample " + std::to_string(i) + " seen " + std::to_string(counts[i]) + " times in epoch " +
                         std::to_string(epoch);
        return report;
      }
    }
  }
  report.ok = true;
  return report;
}

}  // namespace stoke::engine::testing
