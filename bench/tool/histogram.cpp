#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace torsion_bench {

std::size_t latency_histogram::index_of(std::uint64_t ns) noexcept {
  if (ns < linear) return static_cast<std::size_t>(ns);
  ns = std::min<std::uint64_t>(ns, (std::uint64_t{1} << max_bits) - 1);
  // ns has bit_width w > sub_bits + 1; shifting by e leaves its top sub_bits + 1 bits, whose
  // leading one is implied, so the low sub_bits pick the bucket within the octave.
  const unsigned e = static_cast<unsigned>(std::bit_width(ns)) - (sub_bits + 1);
  return linear + (e - 1) * per_octave + static_cast<std::size_t>((ns >> e) - per_octave);
}

std::uint64_t latency_histogram::bucket_low(std::size_t index) noexcept {
  if (index < linear) return index;
  const std::size_t j = index - linear;
  const unsigned e = static_cast<unsigned>(j / per_octave) + 1;
  return static_cast<std::uint64_t>(j % per_octave + per_octave) << e;
}

std::uint64_t latency_histogram::bucket_width(std::size_t index) noexcept {
  if (index < linear) return 1;
  return std::uint64_t{1} << ((index - linear) / per_octave + 1);
}

std::uint64_t latency_histogram::quantile(double q) const noexcept {
  if (total_ == 0) return 0;
  const double want = std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(total_));
  const std::uint64_t rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(want));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank) return bucket_low(i) + bucket_width(i) / 2;
  }
  return bucket_low(bucket_count - 1);
}

void latency_histogram::clear() noexcept {
  counts_.fill(0);
  total_ = 0;
}

}  // namespace torsion_bench
