#pragma once
// The random source the connect layer draws its jitter from. It is injected (architecture invariant 10), so a test
// can replay an exact sequence, and python_random replays CPython's, so Twisted's recorded delays can be checked
// to the last bit.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace torsion {

class random_source {
 public:
  virtual ~random_source() = default;
  // A uniform double in [0, 1).
  virtual double uniform01() = 0;
  // A normal draw with mean `mu` and standard deviation `sigma`.
  virtual double normal(double mu, double sigma) = 0;
};

// CPython's `random` module, bit for bit: the MT19937 generator seeded as `random.seed(n)` seeds it for a
// non-negative integer n, `uniform01()` as `random.random()` and `normal()` as `random.normalvariate()`.
// Copying it copies the generator state, so a copy replays the same sequence.
class python_random final : public random_source {
 public:
  // Seeded from std::random_device; not reproducible.
  python_random();
  // Same state as Python's `random.seed(seed)`.
  explicit python_random(std::uint64_t seed);

  // `random.random()`: 53 random bits from two 32-bit outputs.
  double uniform01() override;
  // `random.normalvariate(mu, sigma)`: Kinderman and Monahan's ratio-of-uniforms method.
  double normal(double mu, double sigma) override;

  // One raw 32-bit MT19937 output (`random.getrandbits(32)`).
  std::uint32_t next_u32() noexcept;

 private:
  static constexpr std::size_t n_ = 624;

  void init_genrand(std::uint32_t s) noexcept;
  void init_by_array(std::span<const std::uint32_t> key) noexcept;
  void twist() noexcept;

  std::array<std::uint32_t, n_> mt_{};
  std::size_t index_ = n_;
};

}  // namespace torsion
