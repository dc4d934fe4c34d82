#pragma once
// The bytes torsion-bench sends, and how it checks what comes back.
//
// Every connection sends one endless byte stream: byte o of connection c is
// pattern[(start(c) + o) mod period], a pseudo-random sequence whose period is a prime, so
// consecutive requests differ (the period does not divide any sane request size) and so do the
// streams of different connections. An echo must return exactly the stream that was sent, so a
// flipped, lost, duplicated or misrouted byte shows up as a mismatch.
//
// The buffer holds the period plus `max_window` bytes of its own continuation, so any window of
// up to max_window bytes is contiguous: requests are sent straight from it (no copy, no fill) and
// echoes are compared against it with memcmp. One buffer serves every connection (a few KiB
// beyond the request size, so it stays in cache).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace torsion_bench {

class payload_pattern {
 public:
  static constexpr std::size_t period = 16381;  // prime

  explicit payload_pattern(std::size_t max_window);

  // Where connection `conn`'s stream starts in the pattern.
  static std::size_t start_of(std::uint32_t conn) noexcept { return (std::size_t{conn} * 7919u + 17u) % period; }
  // `pos` moved on by n bytes of stream.
  static std::size_t advance(std::size_t pos, std::size_t n) noexcept { return (pos + n) % period; }

  // n <= max_window bytes of stream starting at pattern position pos (< period).
  std::span<const std::byte> window(std::size_t pos, std::size_t n) const noexcept { return {bytes_.data() + pos, n}; }
  bool matches(std::size_t pos, std::span<const std::byte> got) const noexcept {
    return std::memcmp(bytes_.data() + pos, got.data(), got.size()) == 0;
  }
  std::size_t max_window() const noexcept { return bytes_.size() - period; }

 private:
  std::vector<std::byte> bytes_;
};

}  // namespace torsion_bench
