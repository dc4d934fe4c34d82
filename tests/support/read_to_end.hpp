#pragma once
// Read a stream until the peer closes or resets it.
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "torsion/core/task.hpp"
#include "torsion/net/tcp_stream.hpp"

namespace torsion_test {

// Every byte until the end of the stream, and how it ended: no error for a clean end (FIN), the
// error otherwise (a reset, say).
inline torsion::task<std::pair<std::string, std::error_code>> read_to_end(torsion::tcp_stream& s) {
  std::string all;
  std::vector<std::byte> buf(65536);
  for (;;) {
    auto n = co_await s.read_some(buf);
    if (!n) co_return std::pair{all, n.error()};
    if (n.value() == 0) co_return std::pair{all, std::error_code{}};
    all.append(reinterpret_cast<const char*>(buf.data()), n.value());
  }
}

}  // namespace torsion_test
