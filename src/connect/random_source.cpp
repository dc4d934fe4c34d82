#include "torsion/connect/random_source.hpp"

#include <cmath>
#include <random>

namespace torsion {

namespace {

// MT19937 parameters (Matsumoto and Nishimura, 1998).
constexpr std::size_t mt_m = 397;
constexpr std::uint32_t matrix_a = 0x9908b0dfU;
constexpr std::uint32_t upper_mask = 0x80000000U;
constexpr std::uint32_t lower_mask = 0x7fffffffU;

// CPython's NV_MAGICCONST = 4 * exp(-0.5) / sqrt(2.0), written out as the double Python computes, so neither a
// compile-time fold nor another libm can move its last bit.
constexpr double nv_magicconst = 1.7155277699214135;

}  // namespace

python_random::python_random() {
  // CPython seeds from os.urandom when given no seed; a few words of OS entropy through the same
  // init_by_array serve the same purpose.
  std::random_device dev;
  std::array<std::uint32_t, 8> key{};
  for (auto& k : key) k = static_cast<std::uint32_t>(dev());
  init_by_array(key);
}

python_random::python_random(std::uint64_t seed) {
  // random.seed(n) feeds init_by_array with |n| split into 32-bit little-endian words, as few as hold its
  // significant bits and at least one (so 0 gives the key [0]).
  const std::array<std::uint32_t, 2> key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
  init_by_array(std::span<const std::uint32_t>(key.data(), (seed >> 32) != 0 ? 2 : 1));
}

void python_random::init_genrand(std::uint32_t s) noexcept {
  mt_[0] = s;
  for (std::size_t i = 1; i < n_; ++i) {
    const std::uint32_t prev = mt_[i - 1];
    mt_[i] = std::uint32_t{1812433253U} * (prev ^ (prev >> 30)) + static_cast<std::uint32_t>(i);
  }
  index_ = n_;
}

void python_random::init_by_array(std::span<const std::uint32_t> key) noexcept {
  init_genrand(19650218U);
  std::size_t i = 1;
  std::size_t j = 0;
  for (std::size_t k = n_ > key.size() ? n_ : key.size(); k != 0; --k) {
    const std::uint32_t prev = mt_[i - 1];
    mt_[i] = (mt_[i] ^ ((prev ^ (prev >> 30)) * std::uint32_t{1664525U})) + key[j] + static_cast<std::uint32_t>(j);
    ++i;
    ++j;
    if (i >= n_) {
      mt_[0] = mt_[n_ - 1];
      i = 1;
    }
    if (j >= key.size()) j = 0;
  }
  for (std::size_t k = n_ - 1; k != 0; --k) {
    const std::uint32_t prev = mt_[i - 1];
    mt_[i] = (mt_[i] ^ ((prev ^ (prev >> 30)) * std::uint32_t{1566083941U})) - static_cast<std::uint32_t>(i);
    ++i;
    if (i >= n_) {
      mt_[0] = mt_[n_ - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000U;  // a non-zero state is guaranteed whatever the key
  index_ = n_;
}

void python_random::twist() noexcept {
  // Indices wrap modulo n_; entries below kk have already been regenerated in this pass, as the reference requires.
  for (std::size_t kk = 0; kk < n_; ++kk) {
    const std::uint32_t y = (mt_[kk] & upper_mask) | (mt_[(kk + 1) % n_] & lower_mask);
    mt_[kk] = mt_[(kk + mt_m) % n_] ^ (y >> 1) ^ ((y & 1U) != 0 ? matrix_a : 0U);
  }
  index_ = 0;
}

std::uint32_t python_random::next_u32() noexcept {
  if (index_ >= n_) twist();
  std::uint32_t y = mt_[index_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= y >> 18;
  return y;
}

double python_random::uniform01() {
  // 27 + 26 bits make a 53-bit integer, scaled by 2^-53; every step is exact.
  const std::uint32_t a = next_u32() >> 5;
  const std::uint32_t b = next_u32() >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

double python_random::normal(double mu, double sigma) {
  for (;;) {
    const double u1 = uniform01();
    const double u2 = 1.0 - uniform01();  // in (0, 1], so log(u2) is finite
    const double z = nv_magicconst * (u1 - 0.5) / u2;
    const double zz = z * z / 4.0;
    if (zz <= -std::log(u2)) {
      // Python rounds the product before the sum; the volatile stops a compiler allowed to contract
      // (-ffp-contract=fast with FMA) from fusing them and changing the last bit.
      const volatile double dev = z * sigma;
      return mu + dev;
    }
  }
}

}  // namespace torsion
