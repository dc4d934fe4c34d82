#pragma once
// Thin, error-valued wrappers over the socket calls that need no ring (they never block).
#include "torsion/core/result.hpp"
#include "torsion/net/address.hpp"

namespace torsion::net {

result<int> open_tcp_socket(int family) noexcept;
result<endpoint> local_endpoint_of(int fd) noexcept;
result<endpoint> peer_endpoint_of(int fd) noexcept;
result<void> set_bool_option(int fd, int level, int name, bool on) noexcept;
result<bool> get_bool_option(int fd, int level, int name) noexcept;


}  // namespace torsion::net
