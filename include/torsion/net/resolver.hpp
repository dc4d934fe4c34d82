#pragma once
// Host name resolution. getaddrinfo blocks, so it runs on the proactor's resolver thread and its
// answer comes back through the ring (post_from_any_thread); the loop never waits on DNS.
// Literal addresses are answered at once without the thread.
#include <string>
#include <string_view>
#include <vector>

#include "torsion/core/result.hpp"
#include "torsion/core/task.hpp"
#include "torsion/net/address.hpp"

namespace torsion {

enum class address_family { any, v4, v6 };

// All addresses of `host`, in getaddrinfo's order. A name that does not resolve is
// dns_lookup_failed; cancellation (stop token) is operation_canceled and the late answer is dropped.
task<result<std::vector<ip_address>>> resolve(std::string host, address_family family = address_family::any);

}  // namespace torsion
