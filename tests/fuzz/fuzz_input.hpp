#pragma once
// What the fuzz targets share: settings read from the first bytes of the input, the rest cut into
// chunks whose sizes the fuzzer also chooses, and a check that aborts (libFuzzer saves the input
// as a reproducer; the replay ctest fails).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string_view>

namespace torsion::fuzz {

[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
  std::abort();
}

#define FUZZ_CHECK(cond) ((cond) ? void(0) : ::torsion::fuzz::check_failed(#cond, __FILE__, __LINE__))

// Reads settings off the front of the input; an exhausted input reads as zeros.
class input {
 public:
  input(const std::uint8_t* data, std::size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  std::uint8_t byte() noexcept {
    if (rest_.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  // Up to n bytes.
  std::string_view bytes(std::size_t n) noexcept {
    const std::string_view b = rest_.substr(0, n);
    rest_.remove_prefix(b.size());
    return b;
  }
  std::string_view rest() const noexcept { return rest_; }

 private:
  std::string_view rest_;
};

// A size limit from one byte: 0..239 as is (small limits reach the boundaries with short inputs),
// 240..255 from a table of the defaults and of values near the ends of the types.
inline std::size_t max_length_from(std::uint8_t b) noexcept {
  constexpr std::size_t top = std::numeric_limits<std::size_t>::max();
  constexpr std::size_t table[16] = {255,        256,         4096,    16384,    65535,   65536,   99999,   0x7fffffff,
                                     0xffffffff, 0x100000000, top / 2, top / 10, top - 3, top - 2, top - 1, top};
  return b < 240 ? b : table[b - 240];
}

// Chunk sizes from one byte: the low 3 bits pick whole input, 1, 2 or 3 bytes at a time, or random
// sizes up to 4, 16, 64 or 1024; the high bits seed the random sizes.
class chunker {
 public:
  explicit chunker(std::uint8_t seed) noexcept : mode_(seed & 7), state_(0x9e3779b9u * ((seed >> 3) + 1u)) {}

  // The largest chunk this chunker returns (SIZE_MAX: the whole input at once).
  std::size_t limit() const noexcept {
    constexpr std::size_t limits[8] = {std::numeric_limits<std::size_t>::max(), 1, 2, 3, 4, 16, 64, 1024};
    return limits[mode_];
  }
  // Cut the next chunk off `rest`.
  std::string_view next(std::string_view& rest) noexcept {
    std::size_t n = limit();
    if (mode_ >= 4) {
      state_ ^= state_ << 13;
      state_ ^= state_ >> 17;
      state_ ^= state_ << 5;
      n = 1 + state_ % n;
    }
    const std::string_view c = rest.substr(0, n);
    rest.remove_prefix(c.size());
    return c;
  }

 private:
  unsigned mode_;
  std::uint32_t state_;
};

// a + b, or SIZE_MAX if that overflows: for bounds that involve limits near SIZE_MAX.
constexpr std::size_t sat_add(std::size_t a, std::size_t b) noexcept {
  return a > std::numeric_limits<std::size_t>::max() - b ? std::numeric_limits<std::size_t>::max() : a + b;
}

}  // namespace torsion::fuzz
