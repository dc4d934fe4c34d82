// Bad input and bounded memory (issue 5): 100 MiB of seeded pseudo-random garbage, 64 KiB at a time,
// into each receiver whose limit callback does not disconnect. After every chunk the bytes the
// parser holds stay within the format's limit plus one chunk (each test states its exact bound), and
// the documented callback or error value is reached. Each case takes under 0.2 s in Release and under
// 1 s with AddressSanitizer, so the amount needs no scaling there.
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <torsion/core/when_all.hpp>
#include <torsion/io/proactor.hpp>
#include <torsion/net/tcp_stream.hpp>
#include <torsion/protocols/framed_stream.hpp>
#include <torsion/protocols/int_string_receiver.hpp>
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/protocols/netstring_receiver.hpp>
#include <torsion/testing/string_transport.hpp>

#include "support/loopback.hpp"

using namespace torsion;
using namespace torsion::twisted;
using torsion::testing::StringTransport;

namespace {

constexpr std::size_t chunk_size = 64 * 1024;
constexpr std::size_t total_bytes = std::size_t{100} << 20;

// Seeded garbage (splitmix64), produced one chunk at a time.
class garbage {
 public:
  explicit garbage(std::uint64_t seed) : state_(seed) {}
  const std::string& next() {
    for (std::size_t i = 0; i < chunk_.size(); i += 8) {
      std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      z ^= z >> 31;
      for (int b = 0; b < 8; ++b) chunk_[i + b] = static_cast<char>(z >> (8 * b));
    }
    return chunk_;
  }

 private:
  std::uint64_t state_;
  std::string chunk_ = std::string(chunk_size, '\0');
};

// Feed total_bytes of garbage to `p`; held(p) is what it buffers, checked against `bound` after
// every chunk. Returns the largest value seen.
template <class P, class Held>
std::size_t feed_garbage(P& p, std::uint64_t seed, std::size_t bound, Held held) {
  garbage g(seed);
  std::size_t most = 0;
  for (std::size_t fed = 0; fed < total_bytes; fed += chunk_size) {
    p.dataReceived(g.next());
    most = std::max(most, held(p));
    if (most > bound) FAIL("after " << fed + chunk_size << " bytes the receiver holds " << most << " > " << bound);
  }
  return most;
}

}  // namespace

TEST_CASE("Bad input - LineReceiver with a counting lineLengthExceeded stays bounded", "[protocols][bad_input]") {
  struct Counting : LineReceiver {
    std::size_t lines = 0, exceeded = 0, accounted = 0;
    void lineReceived(std::string_view l) override {
      ++lines;
      accounted += l.size() + delimiter.size();
    }
    void lineLengthExceeded(std::string_view l) override {
      ++exceeded;
      accounted += l.size();
    }
  };
  Counting p;
  StringTransport t;
  p.makeConnection(&t);
  // Left buffered after a call: an unterminated line shorter than MAX_LENGTH + len(delimiter), so at
  // most MAX_LENGTH + len(delimiter) - 1 = 16385 bytes (well inside the limit plus one chunk).
  const std::size_t bound = p.MAX_LENGTH + p.delimiter.size() - 1;
  const std::size_t most = feed_garbage(p, 1, bound, [](Counting& c) { return c.buffered().size(); });
  CHECK(most <= bound);
  CHECK(p.exceeded > 0);
  CHECK(p.lines > 0);                                       // the short lines between the rare "\r\n"s still arrive
  CHECK(p.accounted + p.buffered().size() == total_bytes);  // every byte reported exactly once
  CHECK_FALSE(t.disconnecting);
}

TEST_CASE("Bad input - LineOnlyReceiver with a counting lineLengthExceeded stays bounded", "[protocols][bad_input]") {
  struct Counting : LineOnlyReceiver {
    std::size_t lines = 0, exceeded = 0;
    void lineReceived(std::string_view) override { ++lines; }
    void lineLengthExceeded(std::string_view l) override {
      ++exceeded;
      CHECK(l.size() > MAX_LENGTH);
    }
  };
  Counting p;
  StringTransport t;
  p.makeConnection(&t);
  // After an over-long line the call returns (as Twisted's does) with what followed the chunk's last
  // delimiter unchecked: at most MAX_LENGTH + one chunk; the next call drops it if it is too long.
  const std::size_t bound = p.MAX_LENGTH + chunk_size;
  const std::size_t most = feed_garbage(p, 2, bound, [](Counting& c) { return c.buffered().size(); });
  CHECK(most <= bound);
  CHECK(p.exceeded > 0);
  CHECK(p.lines > 0);
  CHECK_FALSE(t.disconnecting);
}

TEST_CASE("Bad input - NetstringReceiver refuses garbage and buffers nothing after", "[protocols][bad_input]") {
  struct Counting : NetstringReceiver {
    std::size_t strings = 0;
    void stringReceived(std::string_view) override { ++strings; }
  };
  {
    Counting p;
    StringTransport t;
    p.makeConnection(&t);
    // A length of at most MAX_LENGTH, its colon and payload + comma: MAX_LENGTH + 1 + 7 bytes, plus a chunk.
    const std::size_t bound = p.MAX_LENGTH + 1 + 7 + chunk_size;
    feed_garbage(p, 3, bound, [](Counting& c) { return c.buffered().size(); });
    CHECK(p.brokenPeer == 1);
    CHECK(t.disconnecting);
    CHECK(p.parseError() != nullptr);
    CHECK(p.buffered().empty());  // Torsion drops what a broken peer sends (Twisted keeps it)
  }
  {
    // Garbage behind a valid length: the payload is buffered up to MAX_LENGTH + 1, then the comma
    // check fails (or, 1 time in 256, the garbage goes on as the next length and fails there).
    Counting p;
    StringTransport t;
    p.makeConnection(&t);
    p.dataReceived("99999:");
    const std::size_t bound = p.MAX_LENGTH + 1 + 7 + chunk_size;
    const std::size_t most = feed_garbage(p, 4, bound, [](Counting& c) { return c.buffered().size(); });
    CHECK(most <= p.MAX_LENGTH + 1);
    CHECK(p.brokenPeer == 1);
    CHECK(p.buffered().empty());
  }
}

TEST_CASE("Bad input - Int32StringReceiver with a non-disconnecting lengthLimitExceeded", "[protocols][bad_input]") {
  struct Counting : Int32StringReceiver {
    std::size_t strings = 0, exceeded = 0;
    std::uint64_t length = 0;
    void stringReceived(std::string_view) override { ++strings; }
    void lengthLimitExceeded(std::uint64_t n) override {
      ++exceeded;
      length = n;
    }
  };
  Counting p;
  StringTransport t;
  p.makeConnection(&t);
  // The offending message stays in recvd() (what was left of its chunk); the rest is dropped:
  // at most the prefix, MAX_LENGTH and one chunk.
  const std::size_t bound = 4 + p.MAX_LENGTH + chunk_size;
  const std::size_t most = feed_garbage(p, 5, bound, [](Counting& c) { return c.recvd().size(); });
  CHECK(most <= bound);
  CHECK(p.exceeded == 1);
  CHECK(p.length > p.MAX_LENGTH);
  CHECK(p.recvd().size() <= chunk_size);
  CHECK_FALSE(t.disconnecting);
}

TEST_CASE("Bad input - Int16StringReceiver parses garbage as strings within its prefix", "[protocols][bad_input]") {
  // Every 16-bit prefix is within MAX_LENGTH (99999): garbage is a stream of strings of random sizes.
  struct Counting : Int16StringReceiver {
    std::size_t strings = 0, consumed = 0;
    void stringReceived(std::string_view s) override {
      ++strings;
      consumed += 2 + s.size();
    }
  };
  Counting p;
  StringTransport t;
  p.makeConnection(&t);
  const std::size_t bound = 2 + 65535 - 1;  // an incomplete message: at most its prefix and 65534 bytes
  const std::size_t most = feed_garbage(p, 6, bound, [](Counting& c) { return c.recvd().size(); });
  CHECK(most <= bound);
  CHECK(p.strings >= (total_bytes - 65536) / 65537);  // each string takes at most 2 + 65535 bytes
  CHECK(p.consumed + p.recvd().size() == total_bytes);
}

TEST_CASE("Bad input - line_reader over loopback keeps going after line_too_long", "[protocols][bad_input]") {
  proactor px;
  auto fds = torsion_test::tcp_pair();
  struct tally {
    std::size_t lines = 0, too_long = 0, most_buffered = 0, most_capacity = 0;
    std::error_code end;
  };
  const tally got = px.run([](int wfd, int rfd) -> task<tally> {
    tcp_stream w(wfd, *proactor::current()), r(rfd, *proactor::current());
    auto writer = [](tcp_stream& s) -> task<void> {
      garbage g(7);
      for (std::size_t fed = 0; fed < total_bytes; fed += chunk_size) {
        const std::string& chunk = g.next();
        auto res = co_await s.write_all(std::as_bytes(std::span<const char>(chunk.data(), chunk.size())));
        REQUIRE(res);
      }
      REQUIRE(s.shutdown_write());
    };
    auto reader = [](tcp_stream& s) -> task<tally> {
      line_reader lines(s);  // "\r\n", 16384, LineReceiver rules, 16 KiB reads
      tally t;
      for (;;) {
        auto line = co_await lines.next();
        // Between calls the buffer holds an unterminated rest under MAX_LENGTH + len(delimiter) plus
        // at most one read; its storage never grows past twice that.
        t.most_buffered = std::max(t.most_buffered, lines.buffered().size());
        t.most_capacity = std::max(t.most_capacity, lines.buffer_capacity());
        if (line) {
          ++t.lines;
          continue;
        }
        if (line.error() != errc::line_too_long) {
          t.end = line.error();
          co_return t;
        }
        ++t.too_long;  // and keep reading
      }
    };
    auto [done, t] = co_await when_all(writer(w), reader(r));
    (void)done;
    co_return t;
  }(fds.release_a(), fds.release_b()));
  const std::size_t rest_bound = 16384 + 2 - 1, read_size = 16384;
  CHECK(got.end == errc::connection_done);
  CHECK(got.too_long > 0);
  CHECK(got.lines > 0);
  CHECK(got.most_buffered <= rest_bound + read_size);
  CHECK(got.most_capacity <= 2 * (rest_bound + read_size));
}
