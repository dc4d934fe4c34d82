#pragma once
// One verified echo: a message that differs per connection and round goes out, and exactly it must
// come back.
#include <array>
#include <chrono>
#include <cstddef>
#include <optional>

#include "torsion/core/task.hpp"
#include "torsion/net/tcp_stream.hpp"
#include "torsion/time/with_timeout.hpp"

namespace torsion_test {

inline std::array<std::byte, 32> echo_message(std::size_t conn, int round) {
  std::array<std::byte, 32> m{};
  for (std::size_t k = 0; k < m.size(); ++k) m[k] = std::byte(static_cast<unsigned char>(conn * 31 + round * 7 + k));
  return m;
}

// True if the echo came back intact (within `limit`, if given).
inline torsion::task<bool> echo_verified(torsion::tcp_stream& s, std::size_t conn, int round,
                                         std::optional<std::chrono::nanoseconds> limit = std::nullopt) {
  const auto out = echo_message(conn, round);
  auto w = co_await s.write_all(out);
  if (!w) co_return false;
  std::array<std::byte, 32> in{};
  torsion::result<void> r = torsion::success();
  if (limit)
    r = co_await torsion::with_timeout(s.read_exactly(in), *limit);
  else
    r = co_await s.read_exactly(in);
  co_return r&& in == out;
}

}  // namespace torsion_test
