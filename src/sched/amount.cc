#include "sched/amount.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace stoke::sched {

Amount& Amount::operator+=(const Amount& other) {
  cpus += other.cpus;
  gpus += other.gpus;
  memory += other.memory;
  return *this;
}

Amount& Amount::operator-=(const Amount& other) {
  cpus -= other.cpus;
  gpus -= other.gpus;
  memory -= other.memory;
  return *this;
}

bool Amount::FitsIn(const Amount& other) const {
  return cpus <= other.cpus && gpus <= other.gpus && memory <= other.memory;
}

bool Amount::Helps(const Amount& wanted) const {
  return (wanted.cpus > 0 && cpus > 0) || (wanted.gpus > 0 && gpus > 0) || (wanted.memory > 0 && memory > 0);
}

Amount Amount::NonNegative() const {
  return Amount{std::max<int64_t>(cpus, 0), std::max<int64_t>(gpus, 0), std::max<int64_t>(memory, 0)};
}

Amount Min(const Amount& a, const Amount& b) {
  return Amount{std::min(a.cpus, b.cpus), std::min(a.gpus, b.gpus), std::min(a.memory, b.memory)};
}

std::string DescribeGpus(int64_t n) { return std::to_string(n) + (n == 1 ? " GPU" : " GPUs"); }

std::string DescribeCpus(int64_t n) { return std::to_string(n) + (n == 1 ? " CPU slot" : " CPU slots"); }

std::string DescribeMemory(int64_t bytes) {
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  constexpr double kMiB = 1024.0 * 1024.0;
  char buf[64];
  if (bytes >= static_cast<int64_t>(kGiB)) {
    std::snprintf(buf, sizeof(buf), "%.1f GiB memory", static_cast<double>(bytes) / kGiB);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f MiB memory", static_cast<double>(bytes) / kMiB);
  }
  return buf;
}

namespace {

// Joins "needs <what>, <have> <suffix>" for each dimension where need > have.
std::string DescribeGaps(const Amount& need, const Amount& have, const char* have_prefix, const char* have_suffix) {
  std::vector<std::string> parts;
  auto add = [&](int64_t n, int64_t h, std::string what, std::string have_text) {
    if (n > h) parts.push_back("needs " + what + ", " + have_prefix + have_text + have_suffix);
  };
  add(need.gpus, have.gpus, DescribeGpus(need.gpus), std::to_string(have.gpus));
  add(need.cpus, have.cpus, DescribeCpus(need.cpus), std::to_string(have.cpus));
  if (need.memory > have.memory) {
    // Memory reads better with its unit on both sides.
    std::string have_text = DescribeMemory(have.memory);
    have_text = have_text.substr(0, have_text.size() - std::string(" memory").size());
    add(need.memory, have.memory, DescribeMemory(need.memory), have_text);
  }
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += "; ";
    out += part;
  }
  return out;
}

}  // namespace

std::string DescribeShortfall(const Amount& need, const Amount& free) { return DescribeGaps(need, free, "", " free"); }

std::string DescribeExcess(const Amount& need, const Amount& capacity) {
  return DescribeGaps(need, capacity, "pool has ", "");
}

}  // namespace stoke::sched
