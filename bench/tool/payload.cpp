#include "payload.hpp"

namespace torsion_bench {

payload_pattern::payload_pattern(std::size_t max_window) : bytes_(period + max_window) {
  std::uint64_t x = 0x9e3779b97f4a7c15u;  // xorshift64: any fixed non-zero seed
  for (std::size_t i = 0; i < period; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    bytes_[i] = static_cast<std::byte>(x >> 56);
  }
  for (std::size_t i = period; i < bytes_.size(); ++i) bytes_[i] = bytes_[i - period];
}

}  // namespace torsion_bench
