#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "hpo/search_space.h"

namespace stoke::hpo {

// Writes the plain-text snapshot format shared by all search methods: whitespace-separated tokens;
// labels are bare words (they make snapshots readable and catch layout mismatches on restore),
// integers are decimal, doubles are the 16 hex digits of their IEEE-754 bits (exact and portable),
// strings are "<length>:<bytes>". Identical state gives a byte-identical string.
// Not thread-safe.
class SnapshotWriter {
 public:
  SnapshotWriter& Label(std::string_view label);
  SnapshotWriter& I64(int64_t v);
  SnapshotWriter& U64(uint64_t v);
  SnapshotWriter& F64(double v);
  SnapshotWriter& Str(std::string_view s);
  SnapshotWriter& Value(const ParamValue& v);
  SnapshotWriter& Sample(const ParamSample& sample);
  SnapshotWriter& NewLine();

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Sep();
  std::string out_;
};

// Reads what SnapshotWriter wrote. Every call returns an error (kInvalidArgument) on malformed or
// unexpected input instead of crashing. Not thread-safe.
class SnapshotReader {
 public:
  explicit SnapshotReader(std::string_view text) : text_(text) {}

  Status Expect(std::string_view label);
  Result<int64_t> I64();
  Result<uint64_t> U64();
  Result<double> F64();
  Result<std::string> Str();
  Result<ParamValue> Value();
  Result<ParamSample> Sample();
  // A non-negative count, bounded so a corrupt snapshot cannot ask for huge allocations.
  Result<size_t> Count(size_t max = size_t{1} << 26);
  bool AtEnd();

 private:
  Result<std::string_view> Token();
  std::string_view text_;
};

}  // namespace stoke::hpo
