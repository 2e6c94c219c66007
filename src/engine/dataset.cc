#include "engine/dataset.h"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "engine/npy.h"

namespace stoke::engine {

namespace {

at::ScalarType TorchType(NpyType type) {
  switch (type) {
    case NpyType::kFloat32: return at::kFloat;
    case NpyType::kFloat64: return at::kDouble;
    case NpyType::kInt64: return at::kLong;
    case NpyType::kInt32: return at::kInt;
    case NpyType::kInt16: return at::kShort;
    case NpyType::kInt8: return at::kChar;
    case NpyType::kUInt8: return at::kByte;
    case NpyType::kBool: return at::kBool;
  }
  return at::kFloat;
}

at::Tensor ToTensor(const NpyArray& a) {
  auto t = torch::from_blob(const_cast<char*>(a.data.data()), a.shape, torch::TensorOptions().dtype(TorchType(a.type)));
  return t.clone();
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<Dataset> LoadCsv(const std::string& path, const DataOptions& options) {
  std::ifstream in(path);
  if (!in) return Err(Status::NotFound("cannot open " + path));
  std::string line;
  if (!std::getline(in, line)) return Err(Status::InvalidArgument(path + ": empty CSV"));
  auto split = [](const std::string& s) {
    std::vector<std::string> cells;
    std::stringstream ss(s);
    std::string cell;
    while (std::getline(ss, cell, ',')) {
      while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
      while (!cell.empty() && cell.front() == ' ') cell.erase(cell.begin());
      cells.push_back(cell);
    }
    return cells;
  };
  std::vector<std::string> header = split(line);
  int label = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == options.label_column) label = static_cast<int>(i);
  }
  if (label < 0) return Err(Status::InvalidArgument(path + ": no column named '" + options.label_column + "'", "label_column"));
  std::vector<float> xs, ys;
  int64_t rows = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line == "\r") continue;
    auto cells = split(line);
    if (cells.size() != header.size()) {
      return Err(Status::InvalidArgument(path + ": row " + std::to_string(rows + 2) + " has " +
                                         std::to_string(cells.size()) + " cells, header has " +
                                         std::to_string(header.size())));
    }
    for (size_t i = 0; i < cells.size(); ++i) {
      char* end = nullptr;
      float v = std::strtof(cells[i].c_str(), &end);
      if (end == cells[i].c_str() || *end != '\0') {
        return Err(Status::InvalidArgument(path + ": row " + std::to_string(rows + 2) + " column '" + header[i] +
                                           "' is not a number"));
      }
      (static_cast<int>(i) == label ? ys : xs).push_back(v);
    }
    ++rows;
  }
  Dataset d;
  d.x = torch::from_blob(xs.data(), {rows, static_cast<int64_t>(header.size()) - 1}, torch::kFloat).clone();
  d.y = torch::from_blob(ys.data(), {rows}, torch::kFloat).clone();
  return d;
}

Result<Dataset> LoadTorchSaved(const std::string& path, const DataOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::NotFound("cannot open " + path));
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c10::IValue value = torch::pickle_load(bytes);
  if (!value.isGenericDict()) return Err(Status::InvalidArgument(path + ": expected a dict of tensors"));
  Dataset d;
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor()) continue;
    if (item.key().toStringRef() == options.x_key) d.x = item.value().toTensor();
    if (item.key().toStringRef() == options.y_key) d.y = item.value().toTensor();
  }
  return d;
}

}  // namespace

int64_t Dataset::size() const { return x.defined() ? x.size(0) : 0; }

Result<Dataset> LoadDataset(const std::string& path, const DataOptions& options, LabelType labels) {
  Dataset d;
  try {
    if (EndsWith(path, ".npz")) {
      STOKE_ASSIGN_OR_RETURN(auto arrays, ReadNpzFile(path));
      auto x = arrays.find(options.x_key), y = arrays.find(options.y_key);
      if (x == arrays.end() || y == arrays.end()) {
        return Err(Status::InvalidArgument(path + ": needs arrays '" + options.x_key + "' and '" + options.y_key + "'",
                                           "data"));
      }
      d.x = ToTensor(x->second);
      d.y = ToTensor(y->second);
    } else if (EndsWith(path, ".npy")) {
      if (options.labels_path.empty()) return Err(Status::InvalidArgument(".npy data needs a labels file", "labels"));
      STOKE_ASSIGN_OR_RETURN(NpyArray x, ReadNpyFile(path));
      STOKE_ASSIGN_OR_RETURN(NpyArray y, ReadNpyFile(options.labels_path));
      d.x = ToTensor(x);
      d.y = ToTensor(y);
    } else if (EndsWith(path, ".csv")) {
      STOKE_ASSIGN_OR_RETURN(d, LoadCsv(path, options));
    } else if (EndsWith(path, ".pt") || EndsWith(path, ".pth")) {
      STOKE_ASSIGN_OR_RETURN(d, LoadTorchSaved(path, options));
    } else {
      return Err(Status::InvalidArgument(path + ": unknown data format (want .npz, .npy, .pt or .csv)", "data"));
    }
    if (!d.x.defined() || !d.y.defined()) {
      return Err(Status::InvalidArgument(path + ": missing '" + options.x_key + "' or '" + options.y_key + "'", "data"));
    }
    if (d.x.dim() == 0 || d.y.dim() == 0 || d.x.size(0) != d.y.size(0)) {
      return Err(Status::InvalidArgument(path + ": x and y disagree on the number of samples", "data"));
    }
    d.x = d.x.to(torch::kFloat).contiguous();
    bool as_class = labels == LabelType::kClass ||
                    (labels == LabelType::kAuto && !at::isFloatingType(d.y.scalar_type()));
    d.y = (as_class ? d.y.to(torch::kLong) : d.y.to(torch::kFloat)).contiguous();
  } catch (const c10::Error& e) {
    return Err(Status::InvalidArgument(path + ": " + e.what_without_backtrace(), "data"));
  } catch (const std::exception& e) {
    return Err(Status::InvalidArgument(path + ": " + e.what(), "data"));
  }
  return d;
}

}  // namespace stoke::engine
