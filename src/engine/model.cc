#include "engine/model.h"

#include <torch/script.h>
#include <torch/serialize.h>
#include <torch/torch.h>

namespace stoke::engine {

namespace F = torch::nn::functional;

Status TorchCall(const std::function<void()>& fn, std::string_view what) {
  try {
    fn();
  } catch (const c10::Error& e) {
    return Status::Internal(std::string(what) + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    return Status::Internal(std::string(what) + ": " + e.what());
  }
  return Status::Ok();
}

struct Model::Impl {
  TrainOptions options;
  torch::jit::Module module;
  std::vector<at::Tensor> params;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::function<void(size_t, const at::Tensor&)> grad_hook;
  bool hooks_registered = false;

  torch::Tensor Forward(const torch::Tensor& x) { return module.forward({x}).toTensor(); }

  // Per-sample losses are needed by evaluation; training uses the mean.
  torch::Tensor Loss(const torch::Tensor& out, const torch::Tensor& y, bool mean) {
    auto reduction = [&](auto o) { return mean ? o.reduction(torch::kMean) : o.reduction(torch::kSum); };
    switch (options.loss) {
      case LossKind::kCrossEntropy:
        return F::cross_entropy(out, y, reduction(F::CrossEntropyFuncOptions()));
      case LossKind::kMse:
        return F::mse_loss(out, y.view_as(out), reduction(F::MSELossFuncOptions()));
      case LossKind::kBceWithLogits:
        return F::binary_cross_entropy_with_logits(out, y.view_as(out),
                                                   reduction(F::BinaryCrossEntropyWithLogitsFuncOptions()));
      case LossKind::kModule:
        break;
    }
    return {};
  }
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

Result<std::unique_ptr<Model>> Model::Load(const TrainOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  Status s = TorchCall(
      [&] {
        // The optimizing (profiling) executor is slower than plain interpretation for training
        // small graphs (about 1.5x per step on the digits CNN); it is process-wide.
        torch::jit::setGraphExecutorOptimize(options.jit_optimize);
        impl->module = torch::jit::load(options.model_path);
        impl->module.train();
        for (const auto& p : impl->module.parameters()) {
          if (p.requires_grad()) impl->params.push_back(p);
        }
        // A module exported with no parameter marked trainable (common for modules built
        // outside autograd) trains all of them; otherwise frozen parameters stay frozen.
        if (impl->params.empty()) {
          for (auto p : impl->module.parameters()) {
            p.requires_grad_(true);
            impl->params.push_back(p);
          }
        }
      },
      "loading " + options.model_path);
  if (!s.ok()) return Err(Status::InvalidArgument(s.message(), "model"));
  if (impl->params.empty()) return Err(Status::InvalidArgument(options.model_path + " has no trainable parameters", "model"));
  if (options.loss == LossKind::kModule && !impl->module.find_method("loss")) {
    return Err(Status::InvalidArgument(options.model_path + " has no loss(x, y) method", "loss"));
  }
  const double lr = options.lr.base_lr;
  switch (options.optimizer) {
    case OptimizerKind::kSgd:
      impl->optimizer = std::make_unique<torch::optim::SGD>(
          impl->params, torch::optim::SGDOptions(lr).momentum(options.momentum).nesterov(options.nesterov).weight_decay(
                            options.weight_decay));
      break;
    case OptimizerKind::kAdam:
      impl->optimizer = std::make_unique<torch::optim::Adam>(
          impl->params, torch::optim::AdamOptions(lr)
                            .betas({options.beta1, options.beta2})
                            .eps(options.eps)
                            .weight_decay(options.weight_decay));
      break;
    case OptimizerKind::kAdamW:
      impl->optimizer = std::make_unique<torch::optim::AdamW>(
          impl->params, torch::optim::AdamWOptions(lr)
                            .betas({options.beta1, options.beta2})
                            .eps(options.eps)
                            .weight_decay(options.weight_decay));
      break;
  }
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

Result<double> Model::ForwardBackward(const at::Tensor& x, const at::Tensor& y, double scale) {
  double value = 0;
  STOKE_RETURN_IF_ERROR(TorchCall(
      [&] {
        torch::Tensor loss = impl_->options.loss == LossKind::kModule
                                 ? impl_->module.get_method("loss")({x, y}).toTensor()
                                 : impl_->Loss(impl_->Forward(x), y, /*mean=*/true);
        value = loss.item<double>();
        (loss * scale).backward();
      },
      "forward/backward"));
  return value;
}

Result<EvalTotals> Model::Evaluate(const at::Tensor& x, const at::Tensor& y, int64_t batch) {
  EvalTotals totals;
  STOKE_RETURN_IF_ERROR(TorchCall(
      [&] {
        torch::NoGradGuard no_grad;
        impl_->module.eval();
        for (int64_t start = 0; start < x.size(0); start += batch) {
          auto xb = x.slice(0, start, std::min(x.size(0), start + batch));
          auto yb = y.slice(0, start, std::min(y.size(0), start + batch));
          if (impl_->options.loss == LossKind::kModule) {
            auto out = impl_->module.get_method("loss")({xb, yb}).toTensor();
            totals.loss_sum += out.item<double>() * static_cast<double>(xb.size(0));
          } else {
            auto out = impl_->Forward(xb);
            totals.loss_sum += impl_->Loss(out, yb, /*mean=*/false).item<double>();
            if (impl_->options.loss == LossKind::kCrossEntropy) {
              totals.correct += out.argmax(1).eq(yb).sum().item<int64_t>();
            } else if (impl_->options.loss == LossKind::kBceWithLogits) {
              totals.correct += out.gt(0).to(torch::kFloat).view_as(yb).eq(yb).sum().item<int64_t>();
            }
          }
          totals.count += xb.size(0);
        }
        impl_->module.train();
      },
      "evaluate"));
  return totals;
}

const std::vector<at::Tensor>& Model::parameters() const { return impl_->params; }

std::vector<at::Tensor> Model::Gradients() {
  std::vector<at::Tensor> grads;
  grads.reserve(impl_->params.size());
  for (auto& p : impl_->params) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  return grads;
}

void Model::SetGradientHook(std::function<void(size_t, const at::Tensor&)> hook) {
  impl_->grad_hook = std::move(hook);
  if (impl_->hooks_registered || !impl_->grad_hook) return;
  // Registered once; the tensors' hooks live as long as the module, which Impl owns.
  impl_->hooks_registered = true;
  Impl* impl = impl_.get();
  for (size_t i = 0; i < impl->params.size(); ++i) {
    impl->params[i].register_hook([impl, i](const at::Tensor& grad) {
      if (impl->grad_hook) impl->grad_hook(i, grad);
    });
  }
}

void Model::ZeroGrad() {
  for (auto& p : impl_->params) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
}

Status Model::OptimizerStep(double lr) {
  return TorchCall(
      [&] {
        for (auto& group : impl_->optimizer->param_groups()) group.options().set_lr(lr);
        impl_->optimizer->step();
      },
      "optimizer step");
}

Result<std::string> Model::SaveState(int64_t step) {
  std::string bytes;
  STOKE_RETURN_IF_ERROR(TorchCall(
      [&] {
        torch::serialize::OutputArchive archive;
        for (size_t i = 0; i < impl_->params.size(); ++i) {
          archive.write("param/" + std::to_string(i), impl_->params[i].detach());
        }
        torch::serialize::OutputArchive optimizer_archive;
        impl_->optimizer->save(optimizer_archive);
        archive.write("optimizer", optimizer_archive);
        archive.write("step", torch::tensor(step, torch::kLong));
        archive.save_to([&](const void* data, size_t size) {
          bytes.append(static_cast<const char*>(data), size);
          return size;
        });
      },
      "saving state"));
  return bytes;
}

Result<int64_t> Model::LoadState(const std::string& bytes) {
  int64_t step = 0;
  STOKE_RETURN_IF_ERROR(TorchCall(
      [&] {
        torch::serialize::InputArchive archive;
        archive.load_from(bytes.data(), bytes.size());
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < impl_->params.size(); ++i) {
          torch::Tensor value;
          archive.read("param/" + std::to_string(i), value);
          impl_->params[i].copy_(value);
        }
        torch::serialize::InputArchive optimizer_archive;
        archive.read("optimizer", optimizer_archive);
        impl_->optimizer->load(optimizer_archive);
        torch::Tensor s;
        archive.read("step", s);
        step = s.item<int64_t>();
      },
      "loading state"));
  return step;
}

Status Model::SaveTorchScript(const std::string& path) {
  return TorchCall([&] { impl_->module.save(path); }, "saving " + path);
}

}  // namespace stoke::engine
