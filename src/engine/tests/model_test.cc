#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>

#include "engine/dataset.h"
#include "engine/model.h"
#include "engine/tests/test_util.h"
#include "engine/trainer.h"

namespace stoke::engine {
namespace {

using testing::TempDir;

// Lines of `path` that contain `needle`.
int CountLines(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

TEST(DatasetTest, LoadsNpzWithLabelTypes) {
  TempDir dir;
  testing::WriteBlobs(dir / "d.npz", 30, 4, 3, 1);
  auto d = LoadDataset(dir / "d.npz", DataOptions{}, LabelType::kClass);
  ASSERT_TRUE(d.has_value()) << d.error().ToString();
  EXPECT_EQ(d->size(), 30);
  EXPECT_EQ(d->x.sizes(), (std::vector<int64_t>{30, 4}));
  EXPECT_EQ(d->y.scalar_type(), at::kLong);
  EXPECT_EQ(LoadDataset(dir / "d.npz", DataOptions{}, LabelType::kFloat)->y.scalar_type(), at::kFloat);
  DataOptions wrong;
  wrong.y_key = "labels";
  auto bad = LoadDataset(dir / "d.npz", wrong, LabelType::kClass);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
}

TEST(DatasetTest, LoadsCsvWithNamedLabelColumn) {
  TempDir dir;
  std::ofstream(dir / "d.csv") << "a, target ,b\n1,0,2\n3,1,4.5\n";
  DataOptions o;
  o.label_column = "target";
  auto d = LoadDataset(dir / "d.csv", o, LabelType::kClass);
  ASSERT_TRUE(d.has_value()) << d.error().ToString();
  EXPECT_EQ(d->x.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_FLOAT_EQ(d->x[1][1].item<float>(), 4.5f);
  EXPECT_EQ(d->y[1].item<int64_t>(), 1);
  std::ofstream(dir / "bad.csv") << "a,target\n1,x\n";
  EXPECT_FALSE(LoadDataset(dir / "bad.csv", o, LabelType::kClass).has_value());
  o.label_column = "nope";
  EXPECT_FALSE(LoadDataset(dir / "d.csv", o, LabelType::kClass).has_value());
}

TEST(DatasetTest, LoadsTorchSavedDict) {
  TempDir dir;
  c10::Dict<std::string, at::Tensor> dict;
  dict.insert("x", torch::ones({5, 3}));
  dict.insert("y", torch::arange(5));
  auto bytes = torch::pickle_save(c10::IValue(dict));
  std::ofstream(dir / "d.pt", std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  auto d = LoadDataset(dir / "d.pt", DataOptions{}, LabelType::kClass);
  ASSERT_TRUE(d.has_value()) << d.error().ToString();
  EXPECT_EQ(d->size(), 5);
  EXPECT_EQ(d->y[4].item<int64_t>(), 4);
}

TEST(DatasetTest, LoadsFilesWrittenByPythonTorchAndNumpy) {
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  TempDir dir;
  std::string script = "import torch, numpy as np\n"
                       "torch.save({'x': torch.rand(6, 2), 'y': torch.tensor([0,1,0,1,1,0])}, '" + (dir / "d.pt") + "')\n"
                       "np.savez_compressed('" + (dir / "d.npz") + "', x=np.ones((6,2), np.float64), y=np.arange(6))\n";
  std::ofstream(dir / "make.py") << script;
  if (std::system(("/usr/bin/python3 " + (dir / "make.py") + " 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << "python3 without torch/numpy";
  }
  auto pt = LoadDataset(dir / "d.pt", DataOptions{}, LabelType::kClass);
  ASSERT_TRUE(pt.has_value()) << pt.error().ToString();
  EXPECT_EQ(pt->y.sum().item<int64_t>(), 3);
  auto npz = LoadDataset(dir / "d.npz", DataOptions{}, LabelType::kClass);  // deflated members
  ASSERT_TRUE(npz.has_value()) << npz.error().ToString();
  EXPECT_EQ(npz->x.scalar_type(), at::kFloat);
  EXPECT_EQ(npz->y[5].item<int64_t>(), 5);
}

TEST(ModelTest, StateRoundTripRestoresParametersAndOptimizer) {
  TempDir dir;
  TrainOptions o = testing::TinyJob(dir);
  o.optimizer = OptimizerKind::kAdam;
  auto a = Model::Load(o);
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  auto data = *LoadDataset(o.train_path, o.data, LabelType::kClass);
  auto x = data.x.slice(0, 0, 24), y = data.y.slice(0, 0, 24);
  for (int i = 0; i < 3; ++i) {
    (*a)->ZeroGrad();
    ASSERT_TRUE((*a)->ForwardBackward(x, y, 1.0).has_value());
    ASSERT_TRUE((*a)->OptimizerStep(0.01).ok());
  }
  auto bytes = (*a)->SaveState(3);
  ASSERT_TRUE(bytes.has_value());
  auto b = *Model::Load(o);
  auto step = b->LoadState(*bytes);
  ASSERT_TRUE(step.has_value()) << step.error().ToString();
  EXPECT_EQ(*step, 3);
  // One more identical step on both: equal only if Adam's moments were restored too.
  for (auto* m : {a->get(), b.get()}) {
    m->ZeroGrad();
    ASSERT_TRUE(m->ForwardBackward(x, y, 1.0).has_value());
    ASSERT_TRUE(m->OptimizerStep(0.01).ok());
  }
  for (size_t i = 0; i < b->parameters().size(); ++i) {
    EXPECT_TRUE(torch::equal((*a)->parameters()[i], b->parameters()[i])) << i;
  }
  EXPECT_FALSE(b->LoadState("garbage").has_value());
}

TEST(ModelTest, ModuleLossAndRegressionLosses) {
  TempDir dir;
  TrainOptions o = testing::TinyJob(dir);
  auto data = *LoadDataset(o.train_path, o.data, LabelType::kClass);
  o.loss = LossKind::kModule;
  auto m = *Model::Load(o);
  auto own = m->ForwardBackward(data.x, data.y, 1.0);
  o.loss = LossKind::kCrossEntropy;
  auto ce = (*Model::Load(o))->ForwardBackward(data.x, data.y, 1.0);
  ASSERT_TRUE(own.has_value() && ce.has_value());
  EXPECT_NEAR(*own, *ce, 1e-5);  // the module's loss is the same cross-entropy
  o.loss = LossKind::kMse;
  auto mse = (*Model::Load(o))->ForwardBackward(data.x, torch::zeros({data.size(), 3}), 1.0);
  ASSERT_TRUE(mse.has_value());
  EXPECT_GT(*mse, 0.0);
  o.loss = LossKind::kBceWithLogits;
  auto bce = (*Model::Load(o))->ForwardBackward(data.x, torch::ones({data.size(), 3}), 1.0);
  ASSERT_TRUE(bce.has_value());
  EXPECT_GT(*bce, 0.0);
  o.model_path = dir / "missing.pt";
  EXPECT_EQ(Model::Load(o).error().code(), StatusCode::kInvalidArgument);
}

TEST(TrainerTest, SingleProcessLearnsAndWritesOutputs) {
  TempDir dir;
  TrainOptions o = testing::TinyJob(dir);
  o.epochs = 5;
  auto summary = Train(o, {});
  ASSERT_TRUE(summary.has_value()) << summary.error().ToString();
  EXPECT_EQ(summary->steps, 5 * 10);
  EXPECT_GE(summary->val_accuracy, 0.75);  // overlapping classes: well above chance (0.33)
  EXPECT_EQ(CountLines(o.output_dir + "/metrics.jsonl", "\"epoch\""), 5);
  // Per-step lines (throttled), the last step always among them.
  EXPECT_GE(CountLines(o.output_dir + "/metrics.jsonl", "\"samples_per_s\""), 1);
  EXPECT_EQ(CountLines(o.output_dir + "/metrics.jsonl", "\"step\":50,\"world\""), 1);
  // The final model is plain TorchScript with the trained weights.
  auto trained = testing::FlatParameters(o.output_dir + "/model.pt");
  auto initial = testing::FlatParameters(o.model_path);
  EXPECT_GT((trained - initial).abs().max().item<double>(), 1e-3);
}

TEST(TrainerTest, ResumeFromCheckpointEqualsAnUninterruptedRun) {
  TempDir a_dir, b_dir;
  TrainOptions a = testing::TinyJob(a_dir);
  a.epochs = 2;
  a.lr.kind = LrScheduleKind::kStep;  // (cosine depends on the total, which max_steps changes)
  a.lr.step_size = 4;
  a.lr.gamma = 0.5;
  a.optimizer = OptimizerKind::kAdamW;
  a.lr.base_lr = 0.01;
  ASSERT_TRUE(Train(a, {}).has_value());
  TrainOptions b = testing::TinyJob(b_dir);
  b.epochs = 2;
  b.lr = a.lr;
  b.optimizer = a.optimizer;
  b.max_steps = 10;  // stop after the first epoch's checkpoint
  ASSERT_TRUE(Train(b, {}).has_value());
  b.max_steps = 0;
  b.resume = true;
  auto resumed = Train(b, {});
  ASSERT_TRUE(resumed.has_value()) << resumed.error().ToString();
  EXPECT_EQ(resumed->steps, 20);
  EXPECT_EQ(resumed->steps_trained_here, 10);
  auto pa = testing::FlatParameters(a.output_dir + "/model.pt");
  auto pb = testing::FlatParameters(b.output_dir + "/model.pt");
  EXPECT_TRUE(torch::equal(pa, pb)) << testing::RelativeDifference(pb, pa);
}

TEST(TrainerTest, GradientAccumulationMatchesOneBigBatch) {
  TempDir a_dir, b_dir;
  TrainOptions a = testing::TinyJob(a_dir);
  TrainOptions b = testing::TinyJob(b_dir);
  b.max_micro_batch = 5;  // 24 = 5+5+5+5+4
  ASSERT_TRUE(Train(a, {}).has_value());
  ASSERT_TRUE(Train(b, {}).has_value());
  double diff = testing::RelativeDifference(testing::FlatParameters(b.output_dir + "/model.pt"),
                                            testing::FlatParameters(a.output_dir + "/model.pt"));
  EXPECT_LT(diff, 1e-5);
}

}  // namespace
}  // namespace stoke::engine
