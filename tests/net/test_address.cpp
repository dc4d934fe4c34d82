#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <vector>

#include "torsion/net/address.hpp"

// Readable failure output instead of Catch's "{?}".
namespace Catch {
template <>
struct StringMaker<torsion::ip_address> {
  static std::string convert(const torsion::ip_address& a) { return a.to_string(); }
};
template <>
struct StringMaker<torsion::endpoint> {
  static std::string convert(const torsion::endpoint& e) { return e.to_string(); }
};
}  // namespace Catch

using torsion::endpoint;
using torsion::errc;
using torsion::ip_address;

namespace {

std::error_code code_of(errc e) { return make_error_code(e); }

template <class T>
std::error_code error_of(const torsion::result<T>& r) {
  return r ? std::error_code{} : r.error();
}

}  // namespace

TEST_CASE("ip_address parse and to_string round trip", "[net]") {
  struct row {
    std::string_view in;
    std::string_view out;
    bool v6;
  };
  const row rows[] = {
      {"0.0.0.0", "0.0.0.0", false},
      {"127.0.0.1", "127.0.0.1", false},
      {"1.2.3.4", "1.2.3.4", false},
      {"255.255.255.255", "255.255.255.255", false},
      {"192.168.0.10", "192.168.0.10", false},
      {"::", "::", true},
      {"::1", "::1", true},
      {"0:0:0:0:0:0:0:1", "::1", true},
      {"fe80::1", "fe80::1", true},
      {"2001:DB8::1", "2001:db8::1", true},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", true},
      {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", true},
      {"::ffff:1.2.3.4", "::ffff:1.2.3.4", true},
      {"::ffff:0102:0304", "::ffff:1.2.3.4", true},
      {"fe80::1%3", "fe80::1%3", true},
      {"fe80::1%4294967295", "fe80::1%4294967295", true},
      {"fe80::1%0", "fe80::1", true},  // scope 0 means "no scope"
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    auto a = ip_address::parse(r.in);
    REQUIRE(a);
    CHECK(a.value().is_v6() == r.v6);
    CHECK(a.value().is_v4() == !r.v6);
    CHECK(a.value().family() == (r.v6 ? AF_INET6 : AF_INET));
    CHECK(a.value().to_string() == r.out);
    // The canonical text parses back to the same value.
    auto again = ip_address::parse(a.value().to_string());
    REQUIRE(again);
    CHECK(again.value() == a.value());
  }
}

TEST_CASE("ip_address parse rejects malformed text", "[net]") {
  const std::string long_digits(10000, '1');
  const std::string long_v6 = "::" + std::string(200, '0') + "1";
  const std::string long_scope = "fe80::1%" + std::string(100, 'e');
  const std::string leading_nul = std::string(1, '\0') + "1.2.3.4";
  const std::string padded_v6 = "0000:0000:0000:0000:0000:0000:0000:0001 ";
  const std::string_view rows[] = {
      "",
      "256.0.0.1",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "1.2.3.-4",
      "0x1.2.3.4",
      " 1.2.3.4",
      "1.2.3.4 ",
      "1.2.3.4%1",
      "::1::",
      "gg::1",
      ":::",
      "1:2:3:4:5:6:7:8:9",
      "12345::1",
      "[::1]",
      "fe80::1%",
      "fe80::1%4294967296",
      "fe80::1%no-such-interface",
      "fe80::1%%1",
      "localhost",
      "garbage",
      std::string_view("1.2.3.4\0", 8),
      std::string_view("::1\0", 4),
      leading_nul,
      std::string_view("fe80::1%lo\0", 11),
      long_digits,
      long_v6,
      long_scope,
      padded_v6,
  };
  for (auto text : rows) {
    CAPTURE(text);
    auto a = ip_address::parse(text);
    REQUIRE_FALSE(a);
    CHECK(a.error() == code_of(errc::invalid_address));
  }
}

TEST_CASE("ip_address scope by interface name", "[net]") {
  const unsigned lo = ::if_nametoindex("lo");
  if (lo == 0) {
    WARN("no 'lo' interface here; skipping");
    return;
  }
  auto a = ip_address::parse("fe80::1%lo");
  REQUIRE(a);
  CHECK(a.value().scope_id() == lo);
  CHECK(a.value().to_string() == "fe80::1%" + std::to_string(lo));
}

TEST_CASE("ip_address makers and queries", "[net]") {
  CHECK(ip_address::any_v4().to_string() == "0.0.0.0");
  CHECK(ip_address::loopback_v4().to_string() == "127.0.0.1");
  CHECK(ip_address::any_v6().to_string() == "::");
  CHECK(ip_address::loopback_v6().to_string() == "::1");
  CHECK(ip_address{} == ip_address::any_v4());

  CHECK(ip_address::loopback_v4().is_loopback());
  CHECK(ip_address::parse("127.255.0.9").value().is_loopback());
  CHECK(ip_address::loopback_v6().is_loopback());
  CHECK(ip_address::parse("::ffff:127.0.0.1").value().is_loopback());
  CHECK_FALSE(ip_address::parse("128.0.0.1").value().is_loopback());
  CHECK_FALSE(ip_address::parse("::2").value().is_loopback());
  CHECK_FALSE(ip_address::parse("::1%1").value().is_loopback());
  CHECK_FALSE(ip_address::any_v4().is_loopback());
  CHECK_FALSE(ip_address::any_v6().is_loopback());

  CHECK(ip_address::any_v4().is_unspecified());
  CHECK(ip_address::any_v6().is_unspecified());
  CHECK_FALSE(ip_address::loopback_v4().is_unspecified());
  CHECK_FALSE(ip_address::loopback_v6().is_unspecified());
  CHECK_FALSE(ip_address::parse("0.0.0.1").value().is_unspecified());

  const std::array<std::uint8_t, 4> v4{10, 20, 30, 40};
  const auto a4 = ip_address::from_v4_bytes(v4);
  CHECK(a4.is_v4());
  CHECK(a4.to_v4_bytes() == v4);
  CHECK(a4.scope_id() == 0);
  CHECK(a4.to_string() == "10.20.30.40");
  const std::array<std::uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 20, 30, 40};
  CHECK(a4.to_v6_bytes() == mapped);
  // The mapped form is a different (IPv6) value.
  CHECK(ip_address::from_v6_bytes(mapped) != a4);

  const std::array<std::uint8_t, 16> v6{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42};
  const auto a6 = ip_address::from_v6_bytes(v6, 7);
  CHECK(a6.is_v6());
  CHECK(a6.to_v6_bytes() == v6);
  CHECK(a6.scope_id() == 7);
  CHECK(a6.to_string() == "fe80::42%7");
  CHECK(a6.to_v4_bytes() == std::array<std::uint8_t, 4>{});

  static_assert(ip_address::loopback_v4().is_v4());
  static_assert(ip_address::loopback_v6().is_v6());
}

TEST_CASE("ip_address equality - ordering and hashing", "[net]") {
  auto p = [](std::string_view s) { return ip_address::parse(s).value(); };

  CHECK(p("1.2.3.4") == p("1.2.3.4"));
  CHECK(p("::1") == p("0:0:0:0:0:0:0:1"));
  CHECK(p("1.2.3.4") != p("1.2.3.5"));
  CHECK(p("fe80::1%1") != p("fe80::1%2"));
  CHECK(p("fe80::1%1") != p("fe80::1"));
  CHECK(p("1.2.3.4") != p("::ffff:1.2.3.4"));

  // IPv4 before IPv6 regardless of bytes, then bytes, then scope.
  const std::vector<ip_address> sorted{
      p("0.0.0.0"), p("1.2.3.4"), p("1.2.3.5"),   p("9.0.0.0"),   p("255.255.255.255"), p("::"),
      p("::1"),     p("fe80::1"), p("fe80::1%1"), p("fe80::1%2"), p("fe80::2"),         p("ffff::"),
  };
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    for (std::size_t j = 0; j < sorted.size(); ++j) {
      CAPTURE(sorted[i], sorted[j]);
      CHECK((sorted[i] < sorted[j]) == (i < j));
      CHECK((sorted[i] == sorted[j]) == (i == j));
      CHECK(((sorted[i] <=> sorted[j]) == std::strong_ordering::greater) == (i > j));
    }
  }

  std::unordered_set<ip_address> set(sorted.begin(), sorted.end());
  CHECK(set.size() == sorted.size());
  CHECK(set.count(p("0:0::1")) == 1);
  CHECK(std::hash<ip_address>{}(p("1.2.3.4")) == std::hash<ip_address>{}(p("1.2.3.4")));
}

TEST_CASE("endpoint parse", "[net]") {
  struct ok_row {
    std::string_view in;
    std::string_view address;
    std::uint16_t port;
    std::string_view out;
  };
  const ok_row ok[] = {
      {"1.2.3.4:80", "1.2.3.4", 80, "1.2.3.4:80"},
      {"0.0.0.0:0", "0.0.0.0", 0, "0.0.0.0:0"},
      {"255.255.255.255:65535", "255.255.255.255", 65535, "255.255.255.255:65535"},
      {"127.0.0.1:080", "127.0.0.1", 80, "127.0.0.1:80"},
      {"[::1]:80", "::1", 80, "[::1]:80"},
      {"[::1]:0", "::1", 0, "[::1]:0"},
      {"[::1]:65535", "::1", 65535, "[::1]:65535"},
      {"[::]:443", "::", 443, "[::]:443"},
      {"[::ffff:1.2.3.4]:8080", "::ffff:1.2.3.4", 8080, "[::ffff:1.2.3.4]:8080"},
      {"[fe80::1%2]:22", "fe80::1%2", 22, "[fe80::1%2]:22"},
  };
  for (const auto& r : ok) {
    CAPTURE(r.in);
    auto e = endpoint::parse(r.in);
    REQUIRE(e);
    CHECK(e.value().address() == ip_address::parse(r.address).value());
    CHECK(e.value().port() == r.port);
    CHECK(e.value().to_string() == r.out);
    CHECK(endpoint::parse(e.value().to_string()).value() == e.value());
  }

  struct bad_row {
    std::string_view in;
    errc why;
  };
  const std::string long_port = "1.2.3.4:" + std::string(1000, '9');
  const bad_row bad[] = {
      {"", errc::invalid_address},
      {"1.2.3.4:65536", errc::invalid_port},
      {"1.2.3.4:99999999999999999999999", errc::invalid_port},
      {"1.2.3.4:", errc::invalid_port},
      {"1.2.3.4", errc::invalid_port},
      {"1.2.3.4:-1", errc::invalid_port},
      {"1.2.3.4:+80", errc::invalid_port},
      {"1.2.3.4: 80", errc::invalid_port},
      {"1.2.3.4:80 ", errc::invalid_port},
      {"1.2.3.4:http", errc::invalid_port},
      {"1.2.3.4:80:90", errc::invalid_port},
      {std::string_view("1.2.3.4:80\0", 11), errc::invalid_port},
      {long_port, errc::invalid_port},
      {"::1:80", errc::invalid_address},
      {"::1", errc::invalid_address},
      {"[::1]80", errc::invalid_port},
      {"[::1]", errc::invalid_port},
      {"[::1]:", errc::invalid_port},
      {"[::1]:65536", errc::invalid_port},
      {"[::1:80", errc::invalid_address},
      {"[]:80", errc::invalid_address},
      {"[1.2.3.4]:80", errc::invalid_address},
      {"[gg::1]:80", errc::invalid_address},
      {"256.0.0.1:80", errc::invalid_address},
      {"1.2.3:80", errc::invalid_address},
      {" 1.2.3.4:80", errc::invalid_address},
      {":80", errc::invalid_address},
      {"localhost:80", errc::invalid_address},
  };
  for (const auto& r : bad) {
    CAPTURE(r.in);
    auto e = endpoint::parse(r.in);
    REQUIRE_FALSE(e);
    CHECK(e.error() == code_of(r.why));
  }
}

TEST_CASE("parse_port and port_from_int", "[net]") {
  CHECK(torsion::parse_port("0").value() == 0);
  CHECK(torsion::parse_port("80").value() == 80);
  CHECK(torsion::parse_port("65535").value() == 65535);
  CHECK(torsion::parse_port("00443").value() == 443);
  for (std::string_view bad : {"", "65536", "-1", "+1", " 1", "1 ", "0x10", "1e3", "18446744073709551617"}) {
    CAPTURE(bad);
    CHECK(error_of(torsion::parse_port(bad)) == code_of(errc::invalid_port));
  }

  CHECK(torsion::port_from_int(0).value() == 0);
  CHECK(torsion::port_from_int(65535).value() == 65535);
  for (long long bad : {-1LL, 65536LL, -65536LL, 1LL << 40, std::numeric_limits<long long>::min(),
                        std::numeric_limits<long long>::max()}) {
    CAPTURE(bad);
    CHECK(error_of(torsion::port_from_int(bad)) == code_of(errc::invalid_port));
  }
}

TEST_CASE("endpoint sockaddr round trip", "[net]") {
  SECTION("IPv4") {
    const endpoint e(ip_address::from_v4_bytes({192, 0, 2, 7}), 8080);
    CHECK(e.family() == AF_INET);
    sockaddr_storage ss;
    std::memset(&ss, 0xab, sizeof ss);  // to_sockaddr must not leave stale bytes behind
    const socklen_t len = e.to_sockaddr(ss);
    REQUIRE(len == sizeof(sockaddr_in));
    sockaddr_in in;
    std::memcpy(&in, &ss, sizeof in);
    CHECK(in.sin_family == AF_INET);
    CHECK(ntohs(in.sin_port) == 8080);
    CHECK(ntohl(in.sin_addr.s_addr) == 0xc0000207u);
    CHECK(std::all_of(std::begin(in.sin_zero), std::end(in.sin_zero), [](auto c) { return c == 0; }));

    auto back = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
    REQUIRE(back);
    CHECK(back.value() == e);
    CHECK(back.value().to_string() == "192.0.2.7:8080");
  }

  SECTION("IPv6 with scope") {
    const auto addr = ip_address::parse("fe80::dead:beef%5").value();
    const endpoint e(addr, 443);
    CHECK(e.family() == AF_INET6);
    sockaddr_storage ss;
    const socklen_t len = e.to_sockaddr(ss);
    REQUIRE(len == sizeof(sockaddr_in6));
    sockaddr_in6 in6;
    std::memcpy(&in6, &ss, sizeof in6);
    CHECK(in6.sin6_family == AF_INET6);
    CHECK(ntohs(in6.sin6_port) == 443);
    CHECK(in6.sin6_scope_id == 5);
    CHECK(in6.sin6_flowinfo == 0);
    CHECK(std::memcmp(&in6.sin6_addr, addr.to_v6_bytes().data(), 16) == 0);

    auto back = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
    REQUIRE(back);
    CHECK(back.value() == e);
    CHECK(back.value().to_string() == "[fe80::dead:beef%5]:443");
  }

  SECTION("kernel-built sockaddrs") {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(53);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto a = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof in);
    REQUIRE(a);
    CHECK(a.value() == endpoint(ip_address::loopback_v4(), 53));

    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(53);
    in6.sin6_addr = in6addr_loopback;
    auto b = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof in6);
    REQUIRE(b);
    CHECK(b.value() == endpoint(ip_address::loopback_v6(), 53));
  }

  SECTION("rejected") {
    CHECK(error_of(endpoint::from_sockaddr(nullptr, sizeof(sockaddr_in))) == code_of(errc::invalid_address));

    sockaddr_in in{};
    in.sin_family = AF_INET;
    const auto* sa = reinterpret_cast<const sockaddr*>(&in);
    CHECK(error_of(endpoint::from_sockaddr(sa, 0)) == code_of(errc::invalid_address));
    CHECK(error_of(endpoint::from_sockaddr(sa, sizeof in - 1)) == code_of(errc::invalid_address));

    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    CHECK(error_of(endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof(sockaddr_in))) ==
          code_of(errc::invalid_address));

    sockaddr_storage ss{};
    ss.ss_family = AF_UNIX;
    CHECK(error_of(endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), sizeof ss)) ==
          code_of(errc::invalid_address));
    ss.ss_family = AF_UNSPEC;
    CHECK(error_of(endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), sizeof ss)) ==
          code_of(errc::invalid_address));
  }
}

TEST_CASE("endpoint equality - ordering and hashing", "[net]") {
  auto p = [](std::string_view s) { return endpoint::parse(s).value(); };
  const std::vector<endpoint> sorted{
      p("1.2.3.4:1"), p("1.2.3.4:80"), p("1.2.3.5:0"), p("[::]:0"), p("[::1]:80"), p("[::1]:81"), p("[fe80::1%1]:1"),
  };
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    for (std::size_t j = 0; j < sorted.size(); ++j) {
      CAPTURE(sorted[i], sorted[j]);
      CHECK((sorted[i] < sorted[j]) == (i < j));
      CHECK((sorted[i] == sorted[j]) == (i == j));
    }
  }
  std::unordered_set<endpoint> set(sorted.begin(), sorted.end());
  CHECK(set.size() == sorted.size());
  CHECK(set.count(endpoint(ip_address::loopback_v6(), 80)) == 1);
  CHECK(endpoint{} == endpoint(ip_address::any_v4(), 0));
}

TEST_CASE("address errors use the torsion category and map to invalid_argument", "[net]") {
  for (errc e : {errc::invalid_address, errc::invalid_port}) {
    const std::error_code ec = e;
    CHECK(std::string(ec.category().name()) == "torsion");
    CHECK_FALSE(ec.message().empty());
    CHECK(ec == std::errc::invalid_argument);
  }
  const auto bad_address = ip_address::parse("nope");
  REQUIRE_FALSE(bad_address);
  CHECK(bad_address.error() == std::errc::invalid_argument);
  CHECK(std::string(bad_address.error().category().name()) == "torsion");
  CHECK_FALSE(bad_address.error().message().empty());

  const auto bad_port = endpoint::parse("1.2.3.4:x");
  REQUIRE_FALSE(bad_port);
  CHECK(bad_port.error() == std::errc::invalid_argument);
  CHECK(bad_port.error() == code_of(errc::invalid_port));
  CHECK_FALSE(bad_port.error().message().empty());
  // The two codes stay distinguishable even though both map to invalid_argument.
  CHECK(bad_address.error() != bad_port.error());
}
