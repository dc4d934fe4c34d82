#pragma once
// Open a TCP connection. The host may be an address literal or a name (resolved off the loop);
// each resolved address is tried in turn. Errors: connection_refused, timed_out (the timeout
// covers resolution and every attempt), dns_lookup_failed, connect_bind_failed, self_connect,
// operation_canceled (stop token), or the kernel's errno (ENETUNREACH, ...).
#include <chrono>
#include <optional>
#include <string>

#include "torsion/core/result.hpp"
#include "torsion/core/task.hpp"
#include "torsion/net/address.hpp"
#include "torsion/net/tcp_stream.hpp"

namespace torsion {

struct connect_options {
  std::optional<std::chrono::nanoseconds> timeout = std::chrono::seconds(30);  // Twisted's default
  std::optional<endpoint> bind_address{};
};

task<result<tcp_stream>> connect(const endpoint& ep, connect_options opts = {});
task<result<tcp_stream>> connect(std::string host, std::uint16_t port, connect_options opts = {});

}  // namespace torsion
