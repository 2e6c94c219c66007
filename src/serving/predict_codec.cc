#include "serving/predict_codec.h"

#include <cmath>

namespace stoke::serving {

using nlohmann::json;

namespace {

// Walks one row: learns its shape (first row) or checks it against `shape`, appends its values.
class RowReader {
 public:
  RowReader(Tensor& out, int64_t max_values) : out_(out), max_values_(max_values) {}

  Status Read(const json& row, const std::string& field, bool first) {
    std::vector<int64_t> shape;
    STOKE_RETURN_IF_ERROR(ShapeOf(row, field, shape));
    if (first) {
      row_shape_ = shape;
    } else if (shape != row_shape_) {
      return Status::InvalidArgument(field + " has shape " + ShapeString(shape) + " but the first row has " +
                                         ShapeString(row_shape_) + "; all rows must have one shape",
                                     field);
    }
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    if (static_cast<int64_t>(out_.values.size()) + n > max_values_) {
      return Status::InvalidArgument("the request holds more than " + std::to_string(max_values_) + " numbers", field);
    }
    return Append(row, field);
  }
  const std::vector<int64_t>& row_shape() const { return row_shape_; }

 private:
  // Shape from the first element at each depth; Append() checks the rest.
  static Status ShapeOf(const json& v, const std::string& field, std::vector<int64_t>& shape) {
    const json* cur = &v;
    std::string path = field;
    while (cur->is_array()) {
      if (cur->empty()) return Status::InvalidArgument(path + " is an empty array", path);
      if (shape.size() >= 8) return Status::InvalidArgument(field + " is nested too deeply (at most 8 dimensions)", field);
      shape.push_back(static_cast<int64_t>(cur->size()));
      cur = &(*cur)[0];
      path += "[0]";
    }
    return Status::Ok();
  }

  Status Append(const json& v, const std::string& field, size_t depth = 0) {
    if (depth == row_shape_.size()) {
      if (!v.is_number()) {
        return Status::InvalidArgument(field + " must be a number, not " + std::string(v.type_name()), field);
      }
      double d = v.get<double>();
      if (!std::isfinite(d)) return Status::InvalidArgument(field + " must be finite", field);
      out_.values.push_back(static_cast<float>(d));
      return Status::Ok();
    }
    if (!v.is_array() || static_cast<int64_t>(v.size()) != row_shape_[depth]) {
      return Status::InvalidArgument(field + " must be an array of " + std::to_string(row_shape_[depth]) +
                                         " elements (ragged rows are not allowed)",
                                     field);
    }
    for (size_t i = 0; i < v.size(); ++i) {
      STOKE_RETURN_IF_ERROR(Append(v[i], field + "[" + std::to_string(i) + "]", depth + 1));
    }
    return Status::Ok();
  }

  Tensor& out_;
  int64_t max_values_;
  std::vector<int64_t> row_shape_;
};

json RowJson(const float* values, const std::vector<int64_t>& shape, size_t depth) {
  if (depth == shape.size()) return static_cast<double>(*values);
  json arr = json::array();
  int64_t stride = 1;
  for (size_t i = depth + 1; i < shape.size(); ++i) stride *= shape[i];
  for (int64_t i = 0; i < shape[depth]; ++i) arr.push_back(RowJson(values + i * stride, shape, depth + 1));
  return arr;
}

constexpr int64_t kMaxValues = 16 << 20;

}  // namespace

Result<PredictRequest> ParsePredictRequest(std::string_view body, int64_t max_rows) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Err(Status::InvalidArgument("the body is not valid JSON", "body"));
  if (!doc.is_object()) return Err(Status::InvalidArgument("the body must be a JSON object", "body"));
  PredictRequest req;
  RowReader reader(req.input, kMaxValues);
  int64_t rows = 0;
  auto read_rows = [&](const json& arr, const std::string& field) -> Status {
    if (!arr.is_array()) return Status::InvalidArgument(field + " must be an array of rows", field);
    if (arr.empty()) return Status::InvalidArgument(field + " is empty: send at least one row", field);
    if (rows + static_cast<int64_t>(arr.size()) > max_rows) {
      return Status::InvalidArgument("the request has " + std::to_string(rows + static_cast<int64_t>(arr.size())) +
                                         " rows; at most " + std::to_string(max_rows) + " are allowed per request",
                                     field);
    }
    for (size_t i = 0; i < arr.size(); ++i) {
      STOKE_RETURN_IF_ERROR(reader.Read(arr[i], field + "[" + std::to_string(i) + "]", rows == 0 && i == 0));
    }
    rows += static_cast<int64_t>(arr.size());
    return Status::Ok();
  };

  bool has_instances = doc.contains("instances"), has_wml = doc.contains("input_data");
  for (const auto& [key, _] : doc.items()) {
    if (key != "instances" && key != "input_data") {
      return Err(Status::InvalidArgument("unknown field \"" + key + "\" (expected instances or input_data)", key));
    }
  }
  if (has_instances == has_wml) {
    return Err(Status::InvalidArgument("send exactly one of instances or input_data", "instances"));
  }
  if (has_instances) {
    STOKE_RETURN_IF_ERROR(read_rows(doc["instances"], "instances"));
  } else {
    req.wml = true;
    const json& groups = doc["input_data"];
    if (!groups.is_array() || groups.empty()) {
      return Err(Status::InvalidArgument("input_data must be a non-empty array of {\"values\": [...]}", "input_data"));
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      std::string field = "input_data[" + std::to_string(g) + "]";
      if (!groups[g].is_object() || !groups[g].contains("values")) {
        return Err(Status::InvalidArgument(field + " must be an object with values", field + ".values"));
      }
      for (const auto& [key, _] : groups[g].items()) {
        if (key != "values" && key != "fields" && key != "id") {
          return Err(Status::InvalidArgument("unknown field \"" + key + "\"", field + "." + key));
        }
      }
      int64_t before = rows;
      STOKE_RETURN_IF_ERROR(read_rows(groups[g]["values"], field + ".values"));
      req.group_rows.push_back(rows - before);
    }
  }
  req.input.shape.push_back(rows);
  for (int64_t d : reader.row_shape()) req.input.shape.push_back(d);
  return req;
}

std::string FormatPredictions(const PredictRequest& request, const Tensor& output) {
  std::vector<int64_t> row_shape = output.RowShape();
  int64_t row_size = output.RowSize();
  json rows = json::array();
  for (int64_t r = 0; r < output.rows(); ++r) rows.push_back(RowJson(output.values.data() + r * row_size, row_shape, 0));
  if (!request.wml) return json{{"predictions", std::move(rows)}}.dump();
  json groups = json::array();
  size_t next = 0;
  for (int64_t n : request.group_rows) {
    json values = json::array();
    for (int64_t i = 0; i < n; ++i) values.push_back(std::move(rows[next++]));
    groups.push_back({{"fields", {"prediction"}}, {"values", std::move(values)}});
  }
  return json{{"predictions", std::move(groups)}}.dump();
}

int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

std::string ErrorJson(const Status& status) {
  json err = {{"code", std::string(StatusCodeName(status.code()))}, {"message", status.message()}};
  if (!status.field().empty()) err["field"] = status.field();
  return json{{"error", std::move(err)}}.dump();
}

}  // namespace stoke::serving
