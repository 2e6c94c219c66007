#include "engine/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

namespace stoke::engine {
namespace {

NpyArray Floats(std::vector<int64_t> shape, std::vector<float> values) {
  NpyArray a;
  a.type = NpyType::kFloat32;
  a.shape = std::move(shape);
  a.data.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  return a;
}

TEST(NpyTest, EncodeParseRoundTrip) {
  NpyArray a = Floats({2, 3}, {1, 2, 3, 4, 5, 6});
  std::string bytes = EncodeNpy(a);
  EXPECT_EQ((bytes.size() - a.data.size()) % 64, 0u);  // header padded like numpy does
  auto b = ParseNpy(bytes);
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  EXPECT_EQ(b->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(b->type, NpyType::kFloat32);
  EXPECT_EQ(b->data, a.data);
}

TEST(NpyTest, OneDimensionalAndScalarShapes) {
  NpyArray a = Floats({3}, {1, 2, 3});
  EXPECT_EQ(ParseNpy(EncodeNpy(a))->shape, (std::vector<int64_t>{3}));
  NpyArray s = Floats({}, {7});
  auto back = ParseNpy(EncodeNpy(s));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->shape.empty());
  EXPECT_EQ(back->num_elements(), 1);
}

TEST(NpyTest, ParsesHeaderWrittenByNumpy) {
  // What numpy 1.24 writes for np.arange(3, dtype=np.int64).
  std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size());
  bytes += '\0';
  bytes += header;
  int64_t values[3] = {0, 1, 2};
  bytes.append(reinterpret_cast<const char*>(values), sizeof(values));
  auto a = ParseNpy(bytes);
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  EXPECT_EQ(a->type, NpyType::kInt64);
  int64_t back[3];
  std::memcpy(back, a->data.data(), sizeof(back));
  EXPECT_EQ(back[2], 2);
}

TEST(NpyTest, RejectsBadInput) {
  EXPECT_FALSE(ParseNpy("hello").has_value());
  NpyArray a = Floats({4}, {1, 2, 3, 4});
  std::string bytes = EncodeNpy(a);
  EXPECT_FALSE(ParseNpy(bytes.substr(0, bytes.size() - 1)).has_value());  // truncated payload
  std::string fortran = bytes;
  fortran.replace(fortran.find("False"), 5, "True ");
  EXPECT_FALSE(ParseNpy(fortran).has_value());
  std::string complex = bytes;
  complex.replace(complex.find("<f4"), 3, "<c8");
  EXPECT_FALSE(ParseNpy(complex).has_value());
}

TEST(NpyTest, NpzWriteReadRoundTrip) {
  auto path = std::filesystem::temp_directory_path() / ("npz_test_" + std::to_string(::getpid()) + ".npz");
  NpyArray y;
  y.type = NpyType::kInt64;
  y.shape = {2};
  int64_t labels[2] = {3, 9};
  y.data.assign(reinterpret_cast<const char*>(labels), sizeof(labels));
  ASSERT_TRUE(WriteNpzFile(path, {{"x", Floats({2, 2}, {1, 2, 3, 4})}, {"y", y}}).ok());
  auto arrays = ReadNpzFile(path);
  ASSERT_TRUE(arrays.has_value()) << arrays.error().ToString();
  ASSERT_EQ(arrays->size(), 2u);
  EXPECT_EQ(arrays->at("x").shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(arrays->at("y").data, y.data);
  std::filesystem::remove(path);
  EXPECT_EQ(ReadNpzFile(path).error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace stoke::engine
