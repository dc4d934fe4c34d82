#pragma once
// Feed one input to a fresh receiver in every chunking and check that the outcome never changes.
//
// Deliveries: dataReceived on a StringTransport in every chunk size 1..min(n, 64), then a few larger
// sizes below n and n itself (all at once), two seeded random chunkings; and through an IOPump
// (FakeTransport pair) with 1-byte chunks, 7-byte chunks and two seeded random chunkings. Each chunk
// handed to dataReceived is a fresh copy that dies when the call returns, so a parser that keeps a
// view of a chunk past the call is caught by ASan.
//
//   check_every_chunking(input, [] { return std::make_unique<MyReceiver>(); },
//                        [](MyReceiver& p, feed_context&) { return p.lines; }, expected);
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <torsion/testing/iosim.hpp>
#include <torsion/testing/string_transport.hpp>
#include <vector>

namespace torsion_test {

struct delivery {
  bool pumped = false;                // through an IOPump instead of direct dataReceived calls
  std::size_t chunk = 0;              // direct: chunk size (0 = all at once); pumped: PumpOptions::chunk
  std::optional<std::uint64_t> seed;  // random chunk sizes in [1, chunk]

  std::string name() const {
    std::string s = pumped ? "IOPump chunk=" : "dataReceived chunk=";
    s += chunk ? std::to_string(chunk) : std::string("all");
    if (seed) s += " seed=" + std::to_string(*seed);
    return s;
  }
};

// Every way to deliver an input of `n` bytes.
inline std::vector<delivery> every_delivery(std::size_t n) {
  std::vector<delivery> out;
  const std::size_t small = n < 64 ? n : 64;
  for (std::size_t c = 1; c <= small; ++c) out.push_back({false, c, {}});
  for (std::size_t c : {100u, 1000u, 4096u, 16384u, 65536u})
    if (c > small && c < n) out.push_back({false, c, {}});
  out.push_back({false, 0, {}});
  out.push_back({false, 17, 1});
  out.push_back({false, 4096, 2});
  out.push_back({true, 1, {}});
  out.push_back({true, 7, {}});
  out.push_back({true, 0, 3});   // random sizes in [1, 4096]
  out.push_back({true, 16, 4});  // random sizes in [1, 16]
  return out;
}

// What an outcome function gets besides the protocol.
struct feed_context {
  torsion::twisted::ITransport& transport;
  // Pumped deliveries: move whatever is still in flight (after a resume, say); direct: nothing.
  std::function<void()> flush;
};

// A common outcome: a list of sizes (lines, lineLengthExceeded arguments, ...) and whether the
// transport was told to disconnect.
struct sizes_seen {
  std::vector<std::size_t> sizes;
  bool disconnecting;
  bool operator==(const sizes_seen&) const = default;
};
inline std::ostream& operator<<(std::ostream& os, const sizes_seen& s) {
  return os << Catch::StringMaker<std::vector<std::size_t>>::convert(s.sizes) << " disconnecting " << s.disconnecting;
}

// Twisted's getProtocol(): a protocol connected to a fresh StringTransport.
template <class P>
struct connected {
  torsion::testing::StringTransport transport;
  P proto;
  connected() { proto.makeConnection(&transport); }
};

namespace detail {
struct sender final : torsion::twisted::Protocol {};
}  // namespace detail

// Feed `input` to a fresh protocol from make() in the way `d` says; outcome(protocol, context).
template <class Make, class Outcome>
auto feed(const delivery& d, std::string_view input, Make&& make, Outcome&& outcome) {
  if (!d.pumped) {
    torsion::testing::StringTransport t;
    auto p = make();
    p->makeConnection(&t);
    std::mt19937_64 rng(d.seed.value_or(0));
    for (std::size_t i = 0; i < input.size();) {
      std::size_t n = d.chunk ? d.chunk : input.size();
      if (d.seed) n = std::uniform_int_distribution<std::size_t>(1, d.chunk)(rng);
      const std::string piece(input.substr(i, n));  // dies after the call: no view may outlive it
      i += piece.size();
      p->dataReceived(piece);
    }
    feed_context ctx{t, [] {}};
    return outcome(*p, ctx);
  }
  auto p = make();
  detail::sender s;
  torsion::testing::IOPump pump(s, *p, {.chunk = d.chunk, .seed = d.seed});
  s.transport->write(input);
  pump.flush();
  feed_context ctx{pump.serverTransport(), [&pump] { pump.flush(); }};
  return outcome(*p, ctx);
}

// feed() in every delivery; each outcome must equal `expected`.
template <class Make, class Outcome, class R>
void check_every_chunking(std::string_view input, Make&& make, Outcome&& outcome, const R& expected) {
  for (const delivery& d : every_delivery(input.size())) {
    INFO("delivery: " << d.name());
    CHECK(feed(d, input, make, outcome) == expected);
  }
}

}  // namespace torsion_test
