// LineOnlyReceiver conformance: Twisted's LineOnlyReceiverTests (twisted/protocols/test/test_basic.py)
// and the LineOnlyReceiver column of spec §4.1 / Appendix A.05, each in every chunking.
#include <catch2/catch.hpp>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/testing/string_transport.hpp>
#include <vector>

#include "protocols/chunked.hpp"

using namespace torsion;
using namespace torsion::twisted;
using torsion::testing::StringTransport;
using torsion_test::check_every_chunking;
using torsion_test::feed_context;
using torsion_test::sizes_seen;
using lines_t = std::vector<std::string>;

namespace {

// Twisted's LineOnlyTester: delimiter "\n", MAX_LENGTH 64, records the lines.
struct LineOnlyTester : LineOnlyReceiver {
  lines_t received;
  LineOnlyTester() {
    delimiter = "\n";
    MAX_LENGTH = 64;
  }
  void connectionMade() override { received.clear(); }
  void lineReceived(std::string_view line) override { received.emplace_back(line); }
};

// Spec script 05's LOR: QUIT loses the connection; lineLengthExceeded records the length.
struct LOR : LineOnlyReceiver {
  lines_t lines;
  std::vector<std::size_t> exceeded;
  void lineReceived(std::string_view line) override {
    lines.emplace_back(line);
    if (line == "QUIT") transport->loseConnection();
  }
  void lineLengthExceeded(std::string_view line) override {
    exceeded.push_back(line.size());
    LineOnlyReceiver::lineLengthExceeded(line);
  }
};

struct seen {
  lines_t lines;
  std::vector<std::size_t> exceeded;
  bool disconnecting;
  bool operator==(const seen&) const = default;
};
std::ostream& operator<<(std::ostream& os, const seen& s) {
  return os << "lines " << Catch::StringMaker<lines_t>::convert(s.lines) << " exceeded "
            << Catch::StringMaker<std::vector<std::size_t>>::convert(s.exceeded) << " disconnecting "
            << s.disconnecting;
}

template <class P>
auto maker() {
  return [] { return std::make_unique<P>(); };
}

auto seen_of = [](LOR& p, feed_context& c) { return seen{p.lines, p.exceeded, c.transport.disconnecting}; };
auto line_sizes = [](const LOR& p) {
  std::vector<std::size_t> v;
  for (const auto& l : p.lines) v.push_back(l.size());
  return v;
};

std::string x(std::size_t n) { return std::string(n, 'x'); }

}  // namespace

TEST_CASE("LineOnlyReceiverTests.test_buffer", "[protocols][twisted]") {
  const std::string buffer = "foo\n    bleakness\n    desolation\n    plastic forks\n    ";
  // Twisted feeds it one byte at a time; every chunking gives buffer.split(b"\n")[:-1].
  check_every_chunking(
      buffer, maker<LineOnlyTester>(), [](LineOnlyTester& p, feed_context&) { return p.received; },
      lines_t{"foo", "    bleakness", "    desolation", "    plastic forks"});
}

TEST_CASE("LineOnlyReceiverTests.test_greaterThanMaximumLineLength", "[protocols][twisted]") {
  LineOnlyTester proto;
  check_every_chunking(
      x(proto.MAX_LENGTH + proto.delimiter.size() + 1) + "\r\nr", maker<LineOnlyTester>(),
      [](LineOnlyTester&, feed_context& c) { return c.transport.disconnecting; }, true);
}

TEST_CASE("LineOnlyReceiverTests.test_lineReceivedNotImplemented", "[protocols][twisted]") {
  // Twisted raises NotImplementedError; here an exception (std::logic_error) whose message names it.
  LineOnlyReceiver proto;
  CHECK_THROWS_WITH(proto.lineReceived("foo"), Catch::Contains("NotImplementedError"));
}

// ---- Spec §4.2 / A.05 ----

TEST_CASE("A.05 LineOnlyReceiver constants and sendLine", "[protocols][twisted]") {
  LOR p;
  CHECK(p.delimiter == "\r\n");
  CHECK(p.MAX_LENGTH == 16384);
  StringTransport t;
  p.makeConnection(&t);
  p.sendLine("hello");
  CHECK(t.value() == "hello\r\n");
}

TEST_CASE("A.05 LineOnlyReceiver MAX_LENGTH boundaries of terminated lines", "[protocols][twisted]") {
  const std::size_t M = 16384;
  const std::string input = x(M) + "\r\nnext\r\n";
  const sizes_seen delivered{{M, 4}, false}, exceeded{{M + 1}, true};
  // Delivered when it comes whole. But LineOnlyReceiver's unterminated-buffer rule is "over
  // MAX_LENGTH", without LineReceiver's allowance for a delimiter that has only begun: a chunk that
  // ends right after the "\r" makes it lineLengthExceeded(16385). Twisted 22.4 does the same (chunk
  // sizes 1, 5 and 29, the divisors of 16385, exceed; 2 delivers).
  for (const auto& d : torsion_test::every_delivery(input.size())) {
    INFO("delivery: " << d.name());
    const auto got = torsion_test::feed(d, input, maker<LOR>(), [](LOR& p, feed_context& c) {
      auto sizes = line_sizes(p);  // the line lengths, then the lineLengthExceeded lengths
      sizes.insert(sizes.end(), p.exceeded.begin(), p.exceeded.end());
      return sizes_seen{sizes, c.transport.disconnecting};
    });
    if (!d.pumped && !d.seed)
      CHECK(got == ((d.chunk && (M + 1) % d.chunk == 0) ? exceeded : delivered));
    else
      CHECK((got == delivered || got == exceeded));
  }

  // line len 16385: lines=[] exceeded=[16385] (the line alone) disconnecting=True.
  LOR p;
  StringTransport t;
  p.makeConnection(&t);
  p.dataReceived(x(M + 1) + "\r\nnext\r\n");
  CHECK(seen{p.lines, p.exceeded, t.disconnecting} == seen{{}, {M + 1}, true});
  // A chunk boundary right after the "\r" makes the unterminated buffer 16386 bytes long: either
  // way one call, no line, a disconnect.
  check_every_chunking(
      x(M + 1) + "\r\nnext\r\n", maker<LOR>(),
      [](LOR& p, feed_context& c) {
        return p.lines.empty() && p.exceeded.size() == 1 && (p.exceeded[0] == M + 1 || p.exceeded[0] == M + 2) &&
               c.transport.disconnecting;
      },
      true);
}

TEST_CASE("A.05 LineOnlyReceiver MAX_LENGTH boundaries of an unterminated buffer", "[protocols][twisted]") {
  const std::size_t M = 16384;
  check_every_chunking(x(M), maker<LOR>(), seen_of, seen{{}, {}, false});
  // Over MAX_LENGTH is too long at once (LineReceiver waits for MAX_LENGTH + len(delimiter)).
  check_every_chunking(x(M + 1), maker<LOR>(), seen_of, seen{{}, {M + 1}, true});
  LOR p;
  StringTransport t;
  p.makeConnection(&t);
  p.dataReceived(x(M + 2));
  CHECK(seen{p.lines, p.exceeded, t.disconnecting} == seen{{}, {M + 2}, true});
  // Fed in pieces, the call comes as soon as the buffer is over MAX_LENGTH: 16385 or 16386 bytes.
  check_every_chunking(
      x(M + 2), maker<LOR>(),
      [](LOR& p, feed_context& c) {
        return p.exceeded.size() == 1 && p.exceeded[0] >= M + 1 && p.exceeded[0] <= M + 2 && c.transport.disconnecting;
      },
      true);
}

TEST_CASE("A.05 LineOnlyReceiver delimiter split across chunks and empty lines", "[protocols][twisted]") {
  LOR p;
  StringTransport t;
  p.makeConnection(&t);
  for (const char* chunk : {"abc\r", "\n\r\n", "def\r\n"}) p.dataReceived(chunk);
  CHECK(p.lines == lines_t{"abc", "", "def"});
  check_every_chunking("abc\r\n\r\ndef\r\n", maker<LOR>(), seen_of, seen{{"abc", "", "def"}, {}, false});
}

TEST_CASE("A.05 LineOnlyReceiver loseConnection inside lineReceived stops all later lines", "[protocols][twisted]") {
  LOR p;
  StringTransport t;
  p.makeConnection(&t);
  p.dataReceived("a\r\nQUIT\r\nb\r\nc\r\n");
  CHECK(p.lines == lines_t{"a", "QUIT"});
  CHECK(t.disconnecting);
  // The disconnecting check comes before each line: nothing more, ever.
  p.dataReceived("d\r\n");
  CHECK(p.lines == lines_t{"a", "QUIT"});
  check_every_chunking("a\r\nQUIT\r\nb\r\nc\r\n", maker<LOR>(), seen_of, seen{{"a", "QUIT"}, {}, true});
}

TEST_CASE("LineOnlyReceiver drops the over-long bytes when lineLengthExceeded keeps the connection", "[protocols]") {
  // Difference from Twisted (documented in line_receiver.hpp): Twisted keeps an unterminated
  // over-long buffer and reports it again with the next data; Torsion drops the bytes it reported,
  // so a lineLengthExceeded that does not disconnect cannot make the buffer grow.
  struct Counting : LineOnlyReceiver {
    lines_t lines;
    lines_t exceeded;
    Counting() {
      delimiter = "\n";
      MAX_LENGTH = 8;
    }
    void lineReceived(std::string_view l) override { lines.emplace_back(l); }
    void lineLengthExceeded(std::string_view l) override { exceeded.emplace_back(l); }
  };
  Counting p;
  StringTransport t;
  p.makeConnection(&t);
  p.dataReceived(x(12));
  CHECK(p.exceeded == lines_t{x(12)});
  CHECK(p.buffered().empty());
  p.dataReceived("\nok\n");
  CHECK(p.lines == lines_t{"", "ok"});  // Twisted: lineLengthExceeded(x * 12) again, and no lines
  CHECK(p.exceeded.size() == 1);
  CHECK_FALSE(t.disconnecting);

  // A terminated over-long line: like Twisted, the call gets the line alone, and what followed it in
  // the same chunk up to the last delimiter is gone (Twisted returns from the loop).
  p.dataReceived(x(9) + "\nlost\nkept");
  CHECK(p.exceeded.back() == x(9));
  CHECK(p.lines == lines_t{"", "ok"});
  CHECK(p.buffered() == "kept");
}
