#pragma once
// A fixed-memory latency histogram with log-linear buckets (the HdrHistogram layout): exact below
// 256 ns, then 128 buckets per power of two, so any recorded value is known to within 1/128
// (0.8%) and reported to within 0.4% (the bucket's midpoint). Values are nanoseconds up to 2^40
// (about 18 minutes); larger ones land in the last bucket. Recording is a few instructions and
// never allocates.
#include <array>
#include <cstddef>
#include <cstdint>

namespace torsion_bench {

class latency_histogram {
 public:
  static constexpr unsigned sub_bits = 7;   // 128 buckets per power of two
  static constexpr unsigned max_bits = 40;  // values below 2^40 ns are kept apart
  static constexpr std::size_t linear = std::size_t{1} << (sub_bits + 1);
  static constexpr std::size_t per_octave = std::size_t{1} << sub_bits;
  static constexpr std::size_t bucket_count = linear + (max_bits - sub_bits - 1) * per_octave;

  void record(std::uint64_t ns) noexcept {
    ++counts_[index_of(ns)];
    ++total_;
  }
  std::uint64_t count() const noexcept { return total_; }
  // The smallest recorded value v such that a fraction q (0..1] of the values are <= v, as the
  // midpoint of its bucket; 0 when empty.
  std::uint64_t quantile(double q) const noexcept;
  void clear() noexcept;

  static std::size_t index_of(std::uint64_t ns) noexcept;
  static std::uint64_t bucket_low(std::size_t index) noexcept;
  static std::uint64_t bucket_width(std::size_t index) noexcept;

 private:
  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t total_ = 0;
};

}  // namespace torsion_bench
