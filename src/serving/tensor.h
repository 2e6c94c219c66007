#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stoke::serving {

// A dense float32 tensor in row-major order: what goes into and comes out of a model.
// Plain value type; not synchronized.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;

  // Rows along dimension 0 (0 for a scalar).
  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  // Shape of one row (the shape without dimension 0).
  std::vector<int64_t> RowShape() const { return shape.empty() ? shape : std::vector<int64_t>(shape.begin() + 1, shape.end()); }
  // Elements in one row.
  int64_t RowSize() const;
};

// "[64]", "[3, 28, 28]", "[]".
std::string ShapeString(const std::vector<int64_t>& shape);

}  // namespace stoke::serving
