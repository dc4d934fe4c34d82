// Address parsing and formatting. The input is parsed as text by ip_address::parse,
// endpoint::parse and parse_port; its bytes also build addresses (IPv4, IPv6 with a scope),
// endpoints and sockaddrs directly.
//
// Checked: no crash or UB on any input; whatever parses formats back to text that parses to the
// same value (with the same hash), and an endpoint survives to_sockaddr/from_sockaddr; IPv4 text
// that parses is already in canonical form; a parsed port is the decimal text it came from.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "torsion/net/address.hpp"

namespace {

using namespace torsion;

void check_round_trip(const ip_address& a) {
  const auto back = ip_address::parse(a.to_string());
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(back.value() == a && back.value().hash() == a.hash());
}

void check_round_trip(const endpoint& e) {
  check_round_trip(e.address());
  const auto back = endpoint::parse(e.to_string());
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(back.value() == e && back.value().hash() == e.hash());

  sockaddr_storage ss{};
  const socklen_t len = e.to_sockaddr(ss);
  FUZZ_CHECK(static_cast<int>(ss.ss_family) == e.family());
  const auto from = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
  FUZZ_CHECK(from.has_value() && from.value() == e);
}

template <std::size_t N>
std::array<std::uint8_t, N> take_bytes(fuzz::input& in) {
  std::array<std::uint8_t, N> b{};
  for (auto& x : b) x = in.byte();
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (const auto a = ip_address::parse(text)) {
    check_round_trip(a.value());
    if (a.value().is_v4()) FUZZ_CHECK(a.value().to_string() == text);
  }
  if (const auto e = endpoint::parse(text)) check_round_trip(e.value());
  if (const auto p = parse_port(text)) {
    const std::size_t first = std::min(text.find_first_not_of('0'), text.size() - 1);
    FUZZ_CHECK(std::to_string(p.value()) == text.substr(first));
  }

  // The same bytes as binary values.
  fuzz::input in(data, size);
  const auto v6 = take_bytes<16>(in);
  const auto scope = take_bytes<4>(in);
  const auto port = take_bytes<2>(in);
  const auto wide = take_bytes<8>(in);
  std::uint32_t scope_id = 0;
  std::memcpy(&scope_id, scope.data(), sizeof scope_id);
  const auto port_number = static_cast<std::uint16_t>(port[0] << 8 | port[1]);
  const ip_address a6 = ip_address::from_v6_bytes(v6, scope_id);
  const ip_address a4 = ip_address::from_v4_bytes({v6[0], v6[1], v6[2], v6[3]});
  check_round_trip(endpoint(a6, port_number));
  check_round_trip(endpoint(a4, port_number));
  FUZZ_CHECK(a4.to_v6_bytes()[10] == 0xff && a4 < a6);

  long long n = 0;
  std::memcpy(&n, wide.data(), sizeof n);
  const auto p = port_from_int(n);
  FUZZ_CHECK(p.has_value() == (n >= 0 && n <= 65535));
  if (p) FUZZ_CHECK(p.value() == n);

  // Raw bytes as a sockaddr of the input's length.
  sockaddr_storage ss{};
  const std::size_t len = std::min(size, sizeof ss);
  std::memcpy(&ss, data, len);
  if (const auto e = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), static_cast<socklen_t>(len))) {
    check_round_trip(e.value());
  }
  return 0;
}
