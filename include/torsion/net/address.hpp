#pragma once
// IP addresses and (address, port) endpoints as plain values. Parsing is strict (inet_pton rules) and
// reports errors as errc::invalid_address / errc::invalid_port; nothing here throws or allocates,
// except to_string().
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "torsion/core/result.hpp"

namespace torsion {

class ip_address {
 public:
  // 0.0.0.0, so that a default-constructed endpoint is a valid "any address" value.
  constexpr ip_address() noexcept = default;

  // Dotted quad for IPv4; any inet_pton form for IPv6, optionally followed by "%scope" where scope is a
  // numeric id or an interface name. Anything else, including surrounding whitespace, is invalid_address.
  static result<ip_address> parse(std::string_view text) noexcept;

  static constexpr ip_address any_v4() noexcept { return {}; }
  static constexpr ip_address loopback_v4() noexcept { return from_v4_bytes({127, 0, 0, 1}); }
  static constexpr ip_address any_v6() noexcept { return from_v6_bytes({}); }
  static constexpr ip_address loopback_v6() noexcept {
    return from_v6_bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  }
  static constexpr ip_address from_v4_bytes(std::array<std::uint8_t, 4> b) noexcept {
    ip_address a;
    for (std::size_t i = 0; i < b.size(); ++i) a.bytes_[i] = b[i];
    return a;
  }
  static constexpr ip_address from_v6_bytes(std::array<std::uint8_t, 16> b, std::uint32_t scope = 0) noexcept {
    ip_address a;
    a.family_ = kind::v6;
    a.bytes_ = b;
    a.scope_ = scope;
    return a;
  }

  constexpr bool is_v4() const noexcept { return family_ == kind::v4; }
  constexpr bool is_v6() const noexcept { return family_ == kind::v6; }
  // AF_INET or AF_INET6.
  int family() const noexcept { return is_v4() ? AF_INET : AF_INET6; }
  // 127.0.0.0/8, ::1, and 127.0.0.0/8 mapped into IPv6 (dual-stack sockets report v4 peers that way).
  bool is_loopback() const noexcept;
  // 0.0.0.0 or ::.
  bool is_unspecified() const noexcept;

  // Precondition is_v4(); an IPv6 address yields all zeros.
  constexpr std::array<std::uint8_t, 4> to_v4_bytes() const noexcept {
    if (!is_v4()) return {};
    return {bytes_[0], bytes_[1], bytes_[2], bytes_[3]};
  }
  // For an IPv4 address, its v4-mapped form ::ffff:a.b.c.d.
  constexpr std::array<std::uint8_t, 16> to_v6_bytes() const noexcept {
    if (is_v6()) return bytes_;
    return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, bytes_[0], bytes_[1], bytes_[2], bytes_[3]};
  }
  // IPv6 scope (interface index); 0 when unset and always 0 for IPv4.
  constexpr std::uint32_t scope_id() const noexcept { return scope_; }

  // inet_ntop form; IPv6 gets a numeric "%scope" suffix when the scope is set.
  std::string to_string() const;

  std::size_t hash() const noexcept;

  // Member order gives the documented ordering: IPv4 before IPv6, then bytes, then scope.
  friend constexpr bool operator==(const ip_address&, const ip_address&) noexcept = default;
  friend constexpr std::strong_ordering operator<=>(const ip_address&, const ip_address&) noexcept = default;

 private:
  enum class kind : std::uint8_t { v4, v6 };

  kind family_ = kind::v4;
  // IPv4 uses the first 4 bytes and keeps the rest zero, so the defaulted comparisons stay meaningful.
  std::array<std::uint8_t, 16> bytes_{};
  std::uint32_t scope_ = 0;
};

class endpoint {
 public:
  constexpr endpoint() noexcept = default;
  constexpr endpoint(ip_address address, std::uint16_t port) noexcept : address_(address), port_(port) {}

  // "1.2.3.4:80" or "[::1]:80" (brackets are required for IPv6, and only allowed for it).
  static result<endpoint> parse(std::string_view text) noexcept;
  // AF_INET / AF_INET6 with a length covering the whole structure; anything else is invalid_address.
  static result<endpoint> from_sockaddr(const sockaddr* sa, socklen_t len) noexcept;
  // Fills `out` (zeroing it first) and returns the length to pass to bind/connect.
  socklen_t to_sockaddr(sockaddr_storage& out) const noexcept;

  constexpr const ip_address& address() const noexcept { return address_; }
  constexpr std::uint16_t port() const noexcept { return port_; }
  int family() const noexcept { return address_.family(); }

  // "1.2.3.4:80", "[::1]:80", "[fe80::1%2]:80".
  std::string to_string() const;

  std::size_t hash() const noexcept;

  friend constexpr bool operator==(const endpoint&, const endpoint&) noexcept = default;
  friend constexpr std::strong_ordering operator<=>(const endpoint&, const endpoint&) noexcept = default;

 private:
  ip_address address_;
  std::uint16_t port_ = 0;
};

// Decimal digits only (no sign, no whitespace), value 0..65535; otherwise invalid_port.
result<std::uint16_t> parse_port(std::string_view text) noexcept;
result<std::uint16_t> port_from_int(long long value) noexcept;

}  // namespace torsion

template <>
struct std::hash<torsion::ip_address> {
  std::size_t operator()(const torsion::ip_address& a) const noexcept { return a.hash(); }
};

template <>
struct std::hash<torsion::endpoint> {
  std::size_t operator()(const torsion::endpoint& e) const noexcept { return e.hash(); }
};
