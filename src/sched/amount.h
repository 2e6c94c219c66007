#pragma once

#include <cstdint>
#include <string>

namespace stoke::sched {

// A quantity of pool resources: CPU slots, GPUs and memory bytes. A plain value type.
struct Amount {
  int64_t cpus = 0;
  int64_t gpus = 0;
  int64_t memory = 0;

  Amount& operator+=(const Amount& other);
  Amount& operator-=(const Amount& other);
  friend Amount operator+(Amount a, const Amount& b) { return a += b; }
  friend Amount operator-(Amount a, const Amount& b) { return a -= b; }
  friend Amount operator*(Amount a, int64_t k) { return Amount{a.cpus * k, a.gpus * k, a.memory * k}; }
  bool operator==(const Amount&) const = default;

  // True when no component exceeds the other's.
  bool FitsIn(const Amount& other) const;
  bool IsZero() const { return cpus == 0 && gpus == 0 && memory == 0; }
  // True when this amount has something in a dimension where `wanted` is positive.
  bool Helps(const Amount& wanted) const;
  // Componentwise max(0, x).
  Amount NonNegative() const;
};

// Componentwise minimum.
Amount Min(const Amount& a, const Amount& b);

// The part of `need` that `have` does not cover; never negative.
inline Amount Shortfall(const Amount& need, const Amount& have) { return (need - have).NonNegative(); }

// "needs 2 GPUs, 1 free; needs 4 CPU slots, 3 free" for every dimension where need > free.
std::string DescribeShortfall(const Amount& need, const Amount& free);

// "needs 8 GPUs, pool has 4" for every dimension where need > capacity.
std::string DescribeExcess(const Amount& need, const Amount& capacity);

// "2 GPUs", "1 CPU slot", "1.5 GiB memory".
std::string DescribeGpus(int64_t n);
std::string DescribeCpus(int64_t n);
std::string DescribeMemory(int64_t bytes);

}  // namespace stoke::sched
