#pragma once
// Twisted's IPv4Address / IPv6Address: type, host, port, compared by value.
#include <cstdint>
#include <ostream>
#include <string>

#include "torsion/net/address.hpp"

namespace torsion::twisted {

struct Address {
  std::string type = "TCP";
  std::string host;
  std::uint16_t port = 0;

  static Address from(const endpoint& ep) { return {"TCP", ep.address().to_string(), ep.port()}; }
  bool operator==(const Address&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Address& a) {
  return os << (a.host.find(':') != std::string::npos ? "IPv6Address" : "IPv4Address") << "(type='" << a.type
            << "', host='" << a.host << "', port=" << a.port << ")";
}

}  // namespace torsion::twisted
