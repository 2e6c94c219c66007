#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "serving/tensor.h"

namespace stoke::serving {

// A decoded scoring request: all rows in one tensor, plus how to shape the answer.
struct PredictRequest {
  Tensor input;
  // WML form {"input_data":[{"fields":[..],"values":[..]}, ...]}: rows per input_data entry.
  bool wml = false;
  std::vector<int64_t> group_rows;
};

// Parses {"instances":[row, ...]} or the WML form. A row is a number or a (nested) rectangular
// array of numbers; all rows must have one shape. Errors name the field ("instances[3][1]").
// Stateless functions; thread-safe.
Result<PredictRequest> ParsePredictRequest(std::string_view body, int64_t max_rows);

// {"predictions":[row, ...]} or, for WML requests, {"predictions":[{"fields":["prediction"],"values":[..]}]}.
// REQUIRES: output.rows() equals request.input.rows().
std::string FormatPredictions(const PredictRequest& request, const Tensor& output);

// {"error":{"code":"invalid_argument","message":..,"field":..}} and its HTTP status.
int HttpStatusOf(const Status& status);
std::string ErrorJson(const Status& status);

}  // namespace stoke::serving
