#include "torsion/net/address.hpp"

#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

namespace torsion {
namespace {

// Longest text inet_pton can accept ("ffff:...:ffff:255.255.255.255" is 45 characters).
constexpr std::size_t max_v6_text = INET6_ADDRSTRLEN - 1;
constexpr std::size_t max_v4_text = INET_ADDRSTRLEN - 1;

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Digits only, no overflow past `max`; leading zeros are fine. Returns false on anything else.
bool parse_decimal(std::string_view s, std::uint64_t max, std::uint64_t& out) noexcept {
  if (!all_digits(s)) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (v > max) return false;  // checked every digit, so v * 10 never overflows
  }
  out = v;
  return true;
}

// inet_pton wants a NUL-terminated string; copy into a stack buffer rather than allocate.
bool pton(int af, std::string_view s, void* dst) noexcept {
  char buf[INET6_ADDRSTRLEN];
  if (s.size() >= sizeof buf) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  return ::inet_pton(af, buf, dst) == 1;
}

result<std::uint32_t> parse_scope(std::string_view s) noexcept {
  // A numeric id wins over an interface of the same name, as getaddrinfo does.
  if (std::uint64_t v = 0; parse_decimal(s, std::numeric_limits<std::uint32_t>::max(), v)) {
    return static_cast<std::uint32_t>(v);
  }
  if (s.empty() || s.size() >= IF_NAMESIZE) return failure(errc::invalid_address);
  char name[IF_NAMESIZE];
  std::memcpy(name, s.data(), s.size());
  name[s.size()] = '\0';
  const unsigned index = ::if_nametoindex(name);
  if (index == 0) return failure(errc::invalid_address);
  return static_cast<std::uint32_t>(index);
}

// splitmix64's finalizer: cheap, and spreads every input bit over the result.
std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

result<ip_address> ip_address::parse(std::string_view text) noexcept {
  // Explicit check: a NUL would otherwise end the copy inet_pton sees and hide trailing garbage.
  if (text.empty() || text.find('\0') != std::string_view::npos) return failure(errc::invalid_address);

  if (text.find(':') == std::string_view::npos) {
    if (text.size() > max_v4_text) return failure(errc::invalid_address);
    std::array<std::uint8_t, 4> b{};
    if (!pton(AF_INET, text, b.data())) return failure(errc::invalid_address);
    return from_v4_bytes(b);
  }

  std::uint32_t scope = 0;
  const auto pct = text.find('%');
  if (pct != std::string_view::npos) {
    auto s = parse_scope(text.substr(pct + 1));
    if (!s) return s.error();
    scope = s.value();
    text = text.substr(0, pct);
  }
  if (text.size() > max_v6_text) return failure(errc::invalid_address);
  std::array<std::uint8_t, 16> b{};
  if (!pton(AF_INET6, text, b.data())) return failure(errc::invalid_address);
  return from_v6_bytes(b, scope);
}

bool ip_address::is_loopback() const noexcept {
  if (is_v4()) return bytes_[0] == 127;
  constexpr std::array<std::uint8_t, 12> mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(mapped_prefix.begin(), mapped_prefix.end(), bytes_.begin())) return bytes_[12] == 127;
  return *this == loopback_v6();
}

bool ip_address::is_unspecified() const noexcept {
  // Scope is ignored: "::%1" is still the unspecified address.
  return std::all_of(bytes_.begin(), bytes_.end(), [](std::uint8_t b) { return b == 0; });
}

std::string ip_address::to_string() const {
  // Room for the address, '%' and a 10-digit scope.
  char buf[INET6_ADDRSTRLEN + 1 + 10];
  if (::inet_ntop(family(), bytes_.data(), buf, INET6_ADDRSTRLEN) == nullptr) return {};
  std::size_t n = std::strlen(buf);
  if (scope_ != 0) {
    buf[n++] = '%';
    n = static_cast<std::size_t>(std::to_chars(buf + n, buf + sizeof buf, scope_).ptr - buf);
  }
  return std::string(buf, n);
}

std::size_t ip_address::hash() const noexcept {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  std::memcpy(&lo, bytes_.data(), 8);
  std::memcpy(&hi, bytes_.data() + 8, 8);
  std::uint64_t h = mix(static_cast<std::uint64_t>(family_) + 1);
  h = mix(h ^ lo);
  h = mix(h ^ hi);
  h = mix(h ^ scope_);
  return static_cast<std::size_t>(h);
}

result<endpoint> endpoint::parse(std::string_view text) noexcept {
  std::string_view addr_text;
  std::string_view rest;  // whatever follows the address; must be ":port"
  const bool bracketed = !text.empty() && text.front() == '[';
  if (bracketed) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return failure(errc::invalid_address);
    addr_text = text.substr(1, close - 1);
    rest = text.substr(close + 1);
  } else {
    // IPv4 text has no ':', so the first one separates the port; an unbracketed IPv6 address fails below.
    const auto colon = text.find(':');
    addr_text = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }

  auto address = ip_address::parse(addr_text);
  if (!address) return address.error();
  if (address.value().is_v6() != bracketed) return failure(errc::invalid_address);

  if (rest.empty() || rest.front() != ':') return failure(errc::invalid_port);
  auto port = parse_port(rest.substr(1));
  if (!port) return port.error();
  return endpoint(address.value(), port.value());
}

result<endpoint> endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) noexcept {
  if (sa == nullptr || len < static_cast<socklen_t>(sizeof(sa_family_t))) return failure(errc::invalid_address);
  // memcpy out of the caller's buffer: it may be a sockaddr_storage or a raw byte array.
  sa_family_t family = 0;
  std::memcpy(&family, reinterpret_cast<const char*>(sa) + offsetof(sockaddr, sa_family), sizeof family);
  if (family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in{};
    std::memcpy(&in, sa, sizeof in);
    std::array<std::uint8_t, 4> b{};
    std::memcpy(b.data(), &in.sin_addr, b.size());
    return endpoint(ip_address::from_v4_bytes(b), ntohs(in.sin_port));
  }
  if (family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, sa, sizeof in6);
    std::array<std::uint8_t, 16> b{};
    std::memcpy(b.data(), &in6.sin6_addr, b.size());
    return endpoint(ip_address::from_v6_bytes(b, in6.sin6_scope_id), ntohs(in6.sin6_port));
  }
  return failure(errc::invalid_address);
}

socklen_t endpoint::to_sockaddr(sockaddr_storage& out) const noexcept {
  std::memset(&out, 0, sizeof out);
  if (address_.is_v4()) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port_);
    const auto b = address_.to_v4_bytes();
    std::memcpy(&in.sin_addr, b.data(), b.size());
    std::memcpy(&out, &in, sizeof in);
    return static_cast<socklen_t>(sizeof in);
  }
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port_);
  const auto b = address_.to_v6_bytes();
  std::memcpy(&in6.sin6_addr, b.data(), b.size());
  in6.sin6_scope_id = address_.scope_id();
  std::memcpy(&out, &in6, sizeof in6);
  return static_cast<socklen_t>(sizeof in6);
}

std::string endpoint::to_string() const {
  std::string s = address_.to_string();
  if (address_.is_v6()) {
    s.insert(s.begin(), '[');
    s += ']';
  }
  s += ':';
  char buf[5];
  const auto end = std::to_chars(buf, buf + sizeof buf, port_).ptr;
  s.append(buf, end);
  return s;
}

std::size_t endpoint::hash() const noexcept {
  return static_cast<std::size_t>(mix(static_cast<std::uint64_t>(address_.hash()) ^ port_));
}

result<std::uint16_t> parse_port(std::string_view text) noexcept {
  std::uint64_t v = 0;
  if (!parse_decimal(text, std::numeric_limits<std::uint16_t>::max(), v)) return failure(errc::invalid_port);
  return static_cast<std::uint16_t>(v);
}

result<std::uint16_t> port_from_int(long long value) noexcept {
  if (value < 0 || value > std::numeric_limits<std::uint16_t>::max()) return failure(errc::invalid_port);
  return static_cast<std::uint16_t>(value);
}

}  // namespace torsion
