#include "serving/torch_runner.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include <memory>

namespace stoke::serving {

namespace {

// The first line of a c10 error: the rest is a C++/TorchScript backtrace nobody asked for.
std::string FirstLine(const std::string& what) {
  size_t nl = what.find('\n');
  std::string line = what.substr(0, nl);
  return line.empty() ? what.substr(0, 300) : line;
}

// libtorch's message for a TorchScript exception is the interpreter trace; keep its last
// meaningful line, which says what went wrong ("RuntimeError: mat1 and mat2 shapes ...").
std::string ModelError(const std::string& what) {
  size_t pos = what.rfind("Error: ");
  if (pos != std::string::npos) {
    size_t start = what.rfind('\n', pos);
    std::string tail = what.substr(start == std::string::npos ? 0 : start + 1);
    return FirstLine(tail);
  }
  return FirstLine(what);
}

Result<at::Tensor> FirstTensor(const c10::IValue& v) {
  if (v.isTensor()) return v.toTensor();
  if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) {
      if (e.isTensor()) return e.toTensor();
    }
  }
  if (v.isList()) {
    for (const auto& e : v.toListRef()) {
      if (e.isTensor()) return e.toTensor();
    }
  }
  return Err(Status::Internal("the model's forward returned " + v.tagKind() + ", not a tensor"));
}

}  // namespace

Result<DynamicBatcher::RunBatchFn> LoadTorchRunner(const TorchRunnerOptions& options) {
  auto module = std::make_shared<torch::jit::Module>();
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(options.device);
    if (device.is_cuda() && !torch::cuda::is_available()) {
      return Err(Status::InvalidArgument("--device " + options.device + " but CUDA is not available", "device"));
    }
    if (options.threads > 0) at::set_num_threads(options.threads);
    // The profiling executor re-specialises the graph for every new batch size; plain
    // interpretation gives steady latency across the batch sizes dynamic batching produces.
    torch::jit::setGraphExecutorOptimize(false);
    *module = torch::jit::load(options.model_path, device);
    module->eval();
  } catch (const std::exception& e) {
    return Err(Status::InvalidArgument("cannot load TorchScript model " + options.model_path + ": " + FirstLine(e.what()),
                                       "model"));
  }
  return [module, device](const Tensor& input) -> Result<Tensor> {
    try {
      c10::InferenceMode guard;
      at::Tensor in = torch::from_blob(const_cast<float*>(input.values.data()), input.shape,
                                       torch::TensorOptions().dtype(torch::kFloat32));
      if (device != c10::Device(c10::kCPU)) in = in.to(device);
      c10::IValue out_value = module->forward({in});
      STOKE_ASSIGN_OR_RETURN(at::Tensor out, FirstTensor(out_value));
      out = out.to(c10::kCPU, torch::kFloat32).contiguous();
      Tensor result;
      result.shape.assign(out.sizes().begin(), out.sizes().end());
      if (result.shape.empty()) result.shape.push_back(1);  // a scalar for a one-row batch
      const float* p = out.data_ptr<float>();
      result.values.assign(p, p + out.numel());
      return result;
    } catch (const c10::Error& e) {
      return Err(Status::InvalidArgument("the model rejected rows of shape " + ShapeString(input.RowShape()) + ": " +
                                             ModelError(e.what()),
                                         "instances"));
    } catch (const std::exception& e) {
      return Err(Status::InvalidArgument("the model rejected rows of shape " + ShapeString(input.RowShape()) + ": " +
                                             ModelError(e.what()),
                                         "instances"));
    }
  };
}

}  // namespace stoke::serving
