// LineReceiver conformance: Twisted's LineReceiverTests, LineReceiverLineLengthExceededTests and
// ProducerTests (twisted/protocols/test/test_basic.py) with their inputs and expected values, and the
// LineReceiver rows of spec §4.1 / Appendix A.05. Every framing case also runs in every chunking
// (chunked.hpp); where Twisted's expected value depends on the chunking, the exact value is checked
// for Twisted's own feeding and a chunking-independent property for all the others.
#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/testing/clock.hpp>
#include <torsion/testing/string_transport.hpp>
#include <utility>
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

// Twisted's LineTester: delimiter "\n", MAX_LENGTH 64; an empty line switches to raw mode for the
// number of bytes a "len N" line announced; "pause", "rawpause", "stop", "produce" and "unproduce"
// act on the producer side. It owns its clock (Twisted passes one in).
struct LineTester : LineReceiver {
  torsion::testing::Clock clock;
  lines_t received;
  std::size_t length = 0;

  LineTester() {
    delimiter = "\n";
    MAX_LENGTH = 64;
  }
  void connectionMade() override { received.clear(); }
  void lineReceived(std::string_view line) override {
    received.emplace_back(line);
    if (line.empty()) {
      setRawMode();
    } else if (line == "pause") {
      pauseProducing();
      clock.callLater(0, [this] { resumeProducing(); });
    } else if (line == "rawpause") {
      pauseProducing();
      setRawMode();
      received.emplace_back();
      clock.callLater(0, [this] { resumeProducing(); });
    } else if (line == "stop") {
      stopProducing();
    } else if (line.starts_with("len ")) {
      length = std::stoul(std::string(line.substr(4)));
    } else if (line.starts_with("produce")) {
      REQUIRE(transport->registerProducer(this, false));
    } else if (line.starts_with("unproduce")) {
      transport->unregisterProducer();
    }
  }
  void rawDataReceived(std::string_view data) override {
    const std::string_view mine = data.substr(0, length), rest = data.substr(mine.size());
    length -= mine.size();
    received.back() += mine;
    if (length == 0) setLineMode(rest);
  }
  void lineLengthExceeded(std::string_view line) override {
    if (line.size() > MAX_LENGTH + 1) setLineMode(line.substr(MAX_LENGTH + 1));
  }
};

// Twisted's FlippingLineTester: raw mode after every line, back to line mode after one raw byte.
struct FlippingLineTester : LineReceiver {
  lines_t lines;
  FlippingLineTester() { delimiter = "\n"; }
  void lineReceived(std::string_view line) override {
    lines.emplace_back(line);
    setRawMode();
  }
  void rawDataReceived(std::string_view data) override { setLineMode(data.substr(1)); }
};

// Twisted's ExcessivelyLargeLineCatcher, recording the lines too, so that every byte can be
// accounted for: `replay` is each line with its delimiter and each lineLengthExceeded argument, in
// order.
struct ExcessivelyLargeLineCatcher : LineReceiver {
  lines_t longLines;
  std::string replay;
  bool lines_short = true;
  void connectionMade() override { longLines.clear(); }
  void lineReceived(std::string_view line) override {
    lines_short = lines_short && line.size() <= MAX_LENGTH;
    (replay += line) += delimiter;
  }
  void lineLengthExceeded(std::string_view data) override {
    longLines.emplace_back(data);
    replay += data;
  }
};

// The recording LineReceiver of spec script 05 (LR): RAW, QUIT, CLEAR and REENTER lines act.
struct LR : LineReceiver {
  lines_t lines, raw;
  std::vector<std::size_t> exceeded;
  std::string cleared;
  void lineReceived(std::string_view line) override {
    lines.emplace_back(line);
    if (line == "RAW") setRawMode();
    if (line == "QUIT") transport->loseConnection();
    if (line == "CLEAR") cleared = clearLineBuffer();
    if (line == "REENTER") dataReceived("inner\r\n");
  }
  void rawDataReceived(std::string_view data) override {
    raw.emplace_back(data);
    if (const auto i = data.find("LINE"); i != std::string_view::npos) setLineMode(data.substr(i + 4));
  }
  void lineLengthExceeded(std::string_view line) override {
    exceeded.push_back(line.size());
    LineReceiver::lineLengthExceeded(line);
  }
};

// Two snapshots: before and after the clock resumes a paused receiver.
struct two_stage {
  lines_t before, after;
  bool operator==(const two_stage&) const = default;
};
std::ostream& operator<<(std::ostream& os, const two_stage& s) {
  return os << Catch::StringMaker<lines_t>::convert(s.before) << " then "
            << Catch::StringMaker<lines_t>::convert(s.after);
}

// What an over-long-line case must keep in every chunking.
struct length_outcome {
  std::string replay;  // lines + delimiters and lineLengthExceeded arguments in order, then the buffer
  bool exceeded;       // lineLengthExceeded was called
  bool lines_short;    // no delivered line is over MAX_LENGTH
  bool operator==(const length_outcome&) const = default;
};
std::ostream& operator<<(std::ostream& os, const length_outcome& o) {
  return os << "{replay of " << o.replay.size() << " bytes, exceeded " << o.exceeded << ", lines_short "
            << o.lines_short << "}";
}

template <class P>
auto maker() {
  return [] { return std::make_unique<P>(); };
}

auto received_of = [](LineTester& p, feed_context&) { return p.received; };
auto disconnecting_of = [](auto&, feed_context& c) { return c.transport.disconnecting; };

two_stage resume_by_clock(LineTester& p, feed_context& c) {
  two_stage s;
  s.before = p.received;
  p.clock.advance(0);
  c.flush();
  s.after = p.received;
  return s;
}

std::string x(std::size_t n) { return std::string(n, 'x'); }

}  // namespace

// ---- LineReceiverTests ----

TEST_CASE("LineReceiverTests.test_buffer", "[protocols][twisted]") {
  const std::string buffer =
      "len 10\n\n0123456789len 5\n\n1234\nlen 20\nfoo 123\n\n0123456789\n012345678len 0\nfoo 5\n\n"
      "1234567890123456789012345678901234567890123456789012345678901234567890\nlen 1\n\na";
  const lines_t output{"len 10", "0123456789", "len 5", "1234\n", "len 20", "foo 123", "0123456789\n012345678",
                       "len 0",  "foo 5",      "",      "67890",  "len 1",  "a"};

  // Twisted's loop: packet sizes 1..9, range(len // size + 1) slices (so sometimes a final empty one).
  for (std::size_t packet_size = 1; packet_size < 10; ++packet_size) {
    INFO("packet_size " << packet_size);
    LineTester a;
    StringTransport t;
    a.makeConnection(&t);
    for (std::size_t i = 0; i < buffer.size() / packet_size + 1; ++i)
      a.dataReceived(std::string_view(buffer).substr(std::min(buffer.size(), i * packet_size), packet_size));
    CHECK(a.received == output);
  }

  // The over-long line's lineLengthExceeded hands its tail back through setLineMode, a re-entrant
  // call: those bytes wait for the next dataReceived. So when the over-long line is seen in the last
  // chunk, "67890", "len 1" and "a" come only with one more (empty) dataReceived. Twisted 22.4 does
  // exactly the same: run without that call, it misses them for precisely these chunk sizes.
  const std::vector<std::size_t> twisted_short{20, 23, 27, 28, 32, 33, 34, 35, 40, 41, 42, 43, 44, 45,  46,
                                               47, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 100, 158};
  const lines_t short_output(output.begin(), output.begin() + 10);
  for (std::size_t size = 1; size <= buffer.size(); size = size < 64 ? size + 1 : size < 100 ? 100 : buffer.size()) {
    INFO("packet_size " << size);
    LineTester a;
    StringTransport t;
    a.makeConnection(&t);
    for (std::size_t i = 0; i < buffer.size(); i += size) a.dataReceived(std::string_view(buffer).substr(i, size));
    const bool is_short = std::find(twisted_short.begin(), twisted_short.end(), size) != twisted_short.end();
    CHECK(a.received == (is_short ? short_output : output));
    if (size == buffer.size()) break;
  }

  // Every chunking, then one empty dataReceived, gives Twisted's output.
  check_every_chunking(
      buffer, maker<LineTester>(),
      [](LineTester& p, feed_context&) {
        p.dataReceived("");
        return p.received;
      },
      output);
}

TEST_CASE("LineReceiverTests.test_pausing", "[protocols][twisted]") {
  const std::string pauseBuf = "twiddle1\ntwiddle2\npause\ntwiddle3\n";
  const lines_t pauseOutput1{"twiddle1", "twiddle2", "pause"};
  lines_t pauseOutput2 = pauseOutput1;
  pauseOutput2.push_back("twiddle3");
  check_every_chunking(pauseBuf, maker<LineTester>(), resume_by_clock, two_stage{pauseOutput1, pauseOutput2});
}

TEST_CASE("LineReceiverTests.test_rawPausing", "[protocols][twisted]") {
  const std::string rawpauseBuf = "twiddle1\ntwiddle2\nlen 5\nrawpause\n12345twiddle3\n";
  const lines_t rawpauseOutput1{"twiddle1", "twiddle2", "len 5", "rawpause", ""};
  const lines_t rawpauseOutput2{"twiddle1", "twiddle2", "len 5", "rawpause", "12345", "twiddle3"};
  check_every_chunking(rawpauseBuf, maker<LineTester>(), resume_by_clock, two_stage{rawpauseOutput1, rawpauseOutput2});
}

TEST_CASE("LineReceiverTests.test_stopProducing", "[protocols][twisted]") {
  const std::string stop_buf = "twiddle1\ntwiddle2\nstop\nmore\nstuff\n";
  check_every_chunking(stop_buf, maker<LineTester>(), received_of, lines_t{"twiddle1", "twiddle2", "stop"});
}

TEST_CASE("LineReceiverTests.test_lineReceiverAsProducer", "[protocols][twisted]") {
  const std::string input = "produce\nhello world\nunproduce\ngoodbye\n";
  check_every_chunking(
      input, maker<LineTester>(),
      [](LineTester& p, feed_context&) {
        // Registering and unregistering from inside lineReceived worked: nothing is left registered.
        auto* st = dynamic_cast<StringTransport*>(p.transport);
        CHECK((st == nullptr || st->producer == nullptr));
        return p.received;
      },
      lines_t{"produce", "hello world", "unproduce", "goodbye"});
}

TEST_CASE("LineReceiverTests.test_clearLineBuffer", "[protocols][twisted]") {
  struct ClearingReceiver : LineReceiver {
    std::string line, rest;
    void lineReceived(std::string_view l) override {
      line = l;
      rest = clearLineBuffer();
    }
  };
  ClearingReceiver protocol;  // no transport, as in Twisted's test
  protocol.dataReceived("foo\r\nbar\r\nbaz");
  CHECK(protocol.line == "foo");
  CHECK(protocol.rest == "bar\r\nbaz");

  // Deliver another line to make sure the previously buffered data is really gone.
  protocol.dataReceived("quux\r\n");
  CHECK(protocol.line == "quux");
  CHECK(protocol.rest == "");
}

TEST_CASE("LineReceiverTests.test_stackRecursion", "[protocols][twisted]") {
  // Twisted uses sys.getrecursionlimit() (1000); ten times that shows the loop is iterative.
  const std::size_t limit = 10000;
  std::string input;
  for (std::size_t i = 0; i < limit; ++i) input += "x\nx";
  FlippingLineTester proto;
  StringTransport transport;
  proto.makeConnection(&transport);
  proto.dataReceived(input);
  std::string joined;
  for (const auto& l : proto.lines) joined += l;
  CHECK(joined == std::string(limit, 'x'));
}

TEST_CASE("LineReceiverTests.test_maximumLineLength", "[protocols][twisted]") {
  check_every_chunking(x(LineReceiver{}.MAX_LENGTH + 1) + "\r\nr", maker<LineReceiver>(), disconnecting_of, true);
}

TEST_CASE("LineReceiverTests.test_maximumLineLengthPartialDelimiter", "[protocols][twisted]") {
  LineTester proto;
  proto.MAX_LENGTH = 4;
  StringTransport t;
  proto.makeConnection(&t);
  const std::string line = x(proto.MAX_LENGTH - 1);
  proto.dataReceived(line);
  proto.dataReceived(std::string_view(proto.delimiter).substr(0, proto.delimiter.size() - 1));
  proto.dataReceived(proto.delimiter.substr(proto.delimiter.size() - 1) + line);
  CHECK_FALSE(t.disconnecting);
  REQUIRE(proto.received.size() == 1);
  CHECK(proto.received[0] == line);

  // The same bytes in every chunking.
  check_every_chunking(
      line + "\n" + line,
      [] {
        auto p = std::make_unique<LineTester>();
        p->MAX_LENGTH = 4;
        return p;
      },
      [](LineTester& p, feed_context& c) { return !c.transport.disconnecting && p.received == lines_t{"xxx"}; }, true);
}

TEST_CASE("LineReceiverTests.test_notQuiteMaximumLineLengthUnfinished", "[protocols][twisted]") {
  // MAX_LENGTH bytes and the first byte of the delimiter: that byte might start a delimiter.
  check_every_chunking(x(LineReceiver{}.MAX_LENGTH) + "\r", maker<LineReceiver>(), disconnecting_of, false);
}

TEST_CASE("LineReceiverTests.test_rawDataError", "[protocols][twisted]") {
  // Twisted: dataReceived returns the value rawDataReceived returned (RuntimeError("oops")).
  // Torsion (callbacks return void): an exception thrown by rawDataReceived propagates out of
  // dataReceived, and the receiver is left usable.
  struct Proto : LineReceiver {
    lines_t lines;
    void rawDataReceived(std::string_view) override { throw std::runtime_error("oops"); }
    void lineReceived(std::string_view l) override { lines.emplace_back(l); }
  };
  Proto proto;
  StringTransport transport;
  proto.makeConnection(&transport);
  proto.setRawMode();
  CHECK_THROWS_WITH(proto.dataReceived("data"), "oops");
  proto.setLineMode("after\r\n");
  CHECK(proto.lines == lines_t{"after"});
}

TEST_CASE("LineReceiverTests.test_rawDataReceivedNotImplemented", "[protocols][twisted]") {
  // Twisted raises NotImplementedError; here an exception (std::logic_error) whose message names it.
  LineReceiver proto;
  CHECK_THROWS_WITH(proto.rawDataReceived("foo"), Catch::Contains("NotImplementedError"));
}

TEST_CASE("LineReceiverTests.test_lineReceivedNotImplemented", "[protocols][twisted]") {
  LineReceiver proto;
  CHECK_THROWS_WITH(proto.lineReceived("foo"), Catch::Contains("NotImplementedError"));
}

// ---- LineReceiverLineLengthExceededTests (MAX_LENGTH = 6) ----

namespace {

std::unique_ptr<ExcessivelyLargeLineCatcher> catcher() {
  auto p = std::make_unique<ExcessivelyLargeLineCatcher>();
  p->MAX_LENGTH = 6;
  return p;
}

// Twisted's expectation for its single dataReceived call, and for every other chunking what does not
// depend on it: every byte is either in a delivered line (with its delimiter), in a lineLengthExceeded
// argument, or still buffered, in order; lineLengthExceeded was called; no delivered line is too long.
void check_long_line(const std::string& input, const lines_t& twisted_expectation) {
  auto proto = catcher();
  StringTransport transport;
  proto->makeConnection(&transport);
  proto->dataReceived(input);
  CHECK(proto->longLines == twisted_expectation);

  check_every_chunking(
      input, catcher,
      [](ExcessivelyLargeLineCatcher& p, feed_context&) {
        return length_outcome{p.replay + std::string(p.buffered()), !p.longLines.empty(), p.lines_short};
      },
      length_outcome{input, true, true});
}

}  // namespace

TEST_CASE("LineReceiverLineLengthExceededTests.test_longUnendedLine", "[protocols][twisted]") {
  const std::string excessive = x(6 * 2 + 2);
  check_long_line(excessive, {excessive});
}

TEST_CASE("LineReceiverLineLengthExceededTests.test_longLineAfterShortLine", "[protocols][twisted]") {
  const std::string excessive = x(6 * 2 + 2);
  check_long_line("x\r\n" + excessive, {excessive});
}

TEST_CASE("LineReceiverLineLengthExceededTests.test_longLineWithDelimiter", "[protocols][twisted]") {
  const std::string excessive = x(6 * 2 + 2) + "\r\n" + x(6 * 2 + 2);
  check_long_line(excessive, {excessive});
}

TEST_CASE("LineReceiverLineLengthExceededTests.test_multipleLongLines", "[protocols][twisted]") {
  const std::string excessive = x(6 * 2 + 2) + "\r\n" + x(6 * 2 + 2) + "\r\n";
  check_long_line(excessive, {excessive});
}

TEST_CASE("LineReceiverLineLengthExceededTests.test_maximumLineLength", "[protocols][twisted]") {
  check_every_chunking(x(LineReceiver{}.MAX_LENGTH + 1) + "\r\nr", maker<LineReceiver>(), disconnecting_of, true);
}

TEST_CASE("LineReceiverLineLengthExceededTests.test_maximumLineLengthRemaining", "[protocols][twisted]") {
  LineReceiver r;
  check_every_chunking(x(r.MAX_LENGTH + r.delimiter.size()), maker<LineReceiver>(), disconnecting_of, true);
}

// ---- ProducerTests ----

namespace {

// Twisted's OnlyProducerTransport: records each write and whether it is paused.
struct OnlyProducerTransport : StringTransport {
  lines_t data;
  void write(std::string_view d) override { data.emplace_back(d); }
  bool paused() const { return producerState == "paused"; }
};

// Twisted's ConsumingProtocol: echoes each line, then pauses itself.
struct ConsumingProtocol : LineReceiver {
  void lineReceived(std::string_view line) override {
    transport->write(line);
    pauseProducing();
  }
};

}  // namespace

TEST_CASE("ProducerTests.test_pauseResume", "[protocols][twisted]") {
  ConsumingProtocol p;
  OnlyProducerTransport t;
  p.makeConnection(&t);

  // A partial line: no pause, no line.
  p.dataReceived("hello, ");
  CHECK(t.data.empty());
  CHECK_FALSE(t.paused());
  CHECK_FALSE(p.paused);

  // The rest of the line: echoed, and both paused.
  p.dataReceived("world\r\n");
  CHECK(t.data == lines_t{"hello, world"});
  CHECK(t.paused());
  CHECK(p.paused);

  // Unpausing with nothing buffered delivers nothing and stays unpaused.
  p.resumeProducing();
  CHECK(t.data == lines_t{"hello, world"});
  CHECK_FALSE(t.paused());
  CHECK_FALSE(p.paused);

  // Two lines at once: paused after the first.
  p.dataReceived("hello\r\nworld\r\n");
  CHECK(t.data == lines_t{"hello, world", "hello"});
  CHECK(t.paused());
  CHECK(p.paused);

  // Unpausing delivers the waiting line and pauses again.
  p.resumeProducing();
  CHECK(t.data == lines_t{"hello, world", "hello", "world"});
  CHECK(t.paused());
  CHECK(p.paused);

  // A line while paused is only buffered.
  p.dataReceived("goodbye\r\n");
  CHECK(t.data == lines_t{"hello, world", "hello", "world"});
  CHECK(t.paused());
  CHECK(p.paused);

  p.resumeProducing();
  CHECK(t.data == lines_t{"hello, world", "hello", "world", "goodbye"});
  CHECK(t.paused());
  CHECK(p.paused);

  p.resumeProducing();
  CHECK(t.data == lines_t{"hello, world", "hello", "world", "goodbye"});
  CHECK_FALSE(t.paused());
  CHECK_FALSE(p.paused);
}

// ---- Spec §4.1 / A.05 (script 05_framing_and_helpers.py) ----

TEST_CASE("A.05 LineReceiver constants", "[protocols][twisted]") {
  LineReceiver p;
  CHECK(p.delimiter == "\r\n");
  CHECK(p.MAX_LENGTH == 16384);
  CHECK(p.line_mode == 1);
  CHECK_FALSE(p.paused);
}

TEST_CASE("A.05 LineReceiver MAX_LENGTH boundaries of terminated lines", "[protocols][twisted]") {
  const std::size_t M = 16384;
  auto lengths = [](LR& p, feed_context& c) {
    std::vector<std::size_t> l;
    for (const auto& s : p.lines) l.push_back(s.size());
    return sizes_seen{l, c.transport.disconnecting};
  };
  // line len 16384: lines=[16384, 4] exceeded=[] disconnecting=False, in every chunking.
  check_every_chunking(x(M) + "\r\nnext\r\n", maker<LR>(), lengths, sizes_seen{{M, 4}, false});

  // line len 16385: lines=[] exceeded=[16393] (line + "\r\n" + "next\r\n") disconnecting=True.
  LR p;
  StringTransport t;
  p.makeConnection(&t);
  p.dataReceived(x(M + 1) + "\r\nnext\r\n");
  CHECK(p.lines.empty());
  CHECK(p.exceeded == std::vector<std::size_t>{16393});
  CHECK(t.disconnecting);
  // Other chunkings may cut the line at MAX_LENGTH + 2 bytes before its delimiter arrives: always a
  // disconnect with at least MAX_LENGTH + 2 bytes, no line before it, and (direct feeding goes on
  // after loseConnection, as a StringTransport does) at most one line made of what follows the cut.
  check_every_chunking(
      x(M + 1) + "\r\nnext\r\n", maker<LR>(),
      [](LR& p, feed_context& c) {
        const bool tail_line =
            p.lines.empty() || (p.lines.size() == 1 && std::string_view("\nnext").ends_with(p.lines[0]));
        return c.transport.disconnecting && !p.exceeded.empty() && p.exceeded[0] >= M + 2 && tail_line;
      },
      true);
}

TEST_CASE("A.05 LineReceiver MAX_LENGTH boundaries of an unterminated buffer", "[protocols][twisted]") {
  const std::size_t M = 16384;
  auto outcome = [](LR& p, feed_context& c) { return sizes_seen{p.exceeded, c.transport.disconnecting}; };
  using R = sizes_seen;
  // 16384 and 16385 (= MAX + len(delim) - 1: the last byte might start a delimiter, #6556) wait;
  // 16386 is exceeded with all 16386 bytes, in any chunking (1-byte feeding: after exactly 16386).
  check_every_chunking(x(M), maker<LR>(), outcome, R{{}, false});
  check_every_chunking(x(M + 1), maker<LR>(), outcome, R{{}, false});
  check_every_chunking(x(M + 2), maker<LR>(), outcome, R{{M + 2}, true});
}

TEST_CASE("A.05 LineReceiver unterminated buffer built up in 1-byte chunks", "[protocols][twisted]") {
  LR p;
  StringTransport t;
  p.makeConnection(&t);
  std::size_t fed = 0;
  while (p.exceeded.empty() && fed < 16384 + 2) {
    p.dataReceived("x");
    ++fed;
  }
  CHECK(fed == 16386);
  CHECK(p.exceeded == std::vector<std::size_t>{16386});
}

TEST_CASE("A.05 LineReceiver lineLengthExceeded gets the line and delimiter and the rest", "[protocols][twisted]") {
  LR p;
  StringTransport t;
  p.makeConnection(&t);
  p.dataReceived("short\r\n" + std::string(16385, 'y') + "\r\ntail");
  CHECK(p.lines == lines_t{"short"});
  CHECK(p.exceeded == std::vector<std::size_t>{16385 + 2 + 4});
}

TEST_CASE("A.05 LineReceiver delimiter split across chunks and empty lines", "[protocols][twisted]") {
  LR p;
  StringTransport t;
  p.makeConnection(&t);
  for (const char* chunk : {"abc\r", "\n\r\n", "def\r\n"}) p.dataReceived(chunk);
  CHECK(p.lines == lines_t{"abc", "", "def"});
  check_every_chunking(
      "abc\r\n\r\ndef\r\n", maker<LR>(), [](LR& p, feed_context&) { return p.lines; }, lines_t{"abc", "", "def"});
}

TEST_CASE("A.05 LineReceiver loseConnection inside lineReceived stops later lines of the chunk",
          "[protocols][twisted]") {
  LR p;
  StringTransport t;
  p.makeConnection(&t);
  p.dataReceived("a\r\nQUIT\r\nb\r\nc\r\n");
  CHECK(p.lines == lines_t{"a", "QUIT"});
  CHECK(t.disconnecting);
  // The disconnecting check comes after each line: a later dataReceived delivers one more line.
  p.dataReceived("d\r\n");
  CHECK(p.lines == lines_t{"a", "QUIT", "b"});

  // In every chunking: [a, QUIT] first, then at most one line per later dataReceived call, and the
  // pump (which, like TCP, stops reading at loseConnection) delivers nothing more.
  for (const auto& d : torsion_test::every_delivery(16)) {
    INFO("delivery: " << d.name());
    const std::string input = "a\r\nQUIT\r\nb\r\nc\r\n";
    const auto r = torsion_test::feed(d, input, maker<LR>(), [&](LR& p, feed_context& c) {
      const bool head = p.lines.size() >= 2 && p.lines[0] == "a" && p.lines[1] == "QUIT";
      if (d.pumped) return head && p.lines.size() == 2 && c.transport.disconnecting;
      return head && c.transport.disconnecting;
    });
    CHECK(r);
  }
}

TEST_CASE("A.05 LineReceiver setRawMode inside lineReceived and setLineMode with extra", "[protocols][twisted]") {
  LR p;
  StringTransport t;
  p.makeConnection(&t);
  p.dataReceived("one\r\nRAW\r\nrawbytes...LINEtwo\r\nthree\r\n");
  CHECK(p.lines == lines_t{"one", "RAW", "two", "three"});
  CHECK(p.raw == lines_t{"rawbytes...LINEtwo\r\nthree\r\n"});
}

TEST_CASE("A.05 LineReceiver clearLineBuffer inside lineReceived", "[protocols][twisted]") {
  LR p;
  StringTransport t;
  p.makeConnection(&t);
  p.dataReceived("CLEAR\r\nrest1\r\nrest2");
  CHECK(p.lines == lines_t{"CLEAR"});
  CHECK(p.cleared == "rest1\r\nrest2");
  CHECK(p.buffered().empty());
}

TEST_CASE("A.05 LineReceiver re-entrant dataReceived is processed by the outer loop", "[protocols][twisted]") {
  // The re-entrant bytes join the buffer after what is already there, so the order of the lines
  // depends on how much of "after\r\n" had arrived. Values from Twisted 22.4 for chunk sizes 1, 7, 100.
  const std::string input = "REENTER\r\nafter\r\n";
  const std::vector<std::pair<std::size_t, lines_t>> twisted{
      {1, {"REENTER", "inner", "after"}}, {7, {"REENTER", "afterinner", ""}}, {100, {"REENTER", "after", "inner"}}};
  for (const auto& [size, expected] : twisted) {
    INFO("chunk size " << size);
    const auto got =
        torsion_test::feed({false, size, {}}, input, maker<LR>(), [](LR& p, feed_context&) { return p.lines; });
    CHECK(got == expected);
  }
}

TEST_CASE("A.05 LineReceiver lineReceived cannot stop the loop by a return value", "[protocols][twisted]") {
  // Twisted: a truthy return value from lineReceived stops the loop and leaves "more\r\n" buffered.
  // Torsion (spec §7.2 different-on-purpose 7): callbacks return void, so the loop goes on; use
  // pauseProducing to stop it, which leaves the rest buffered as Twisted's return value did.
  struct Stopper : LR {
    void lineReceived(std::string_view line) override {
      LR::lineReceived(line);
      if (line == "STOPVAL") pauseProducing();
    }
  };
  LR plain;
  StringTransport t1;
  plain.makeConnection(&t1);
  plain.dataReceived("STOPVAL\r\nmore\r\n");
  CHECK(plain.lines == lines_t{"STOPVAL", "more"});
  CHECK(plain.buffered().empty());

  Stopper p;
  StringTransport t2;
  p.makeConnection(&t2);
  p.dataReceived("STOPVAL\r\nmore\r\n");
  CHECK(p.lines == lines_t{"STOPVAL"});
  CHECK(p.buffered() == "more\r\n");
}

TEST_CASE("A.05 LineReceiver pauseProducing and resumeProducing", "[protocols][twisted]") {
  LR p;
  StringTransport t;
  p.makeConnection(&t);
  p.pauseProducing();
  p.dataReceived("1\r\n2\r\n");
  CHECK(p.lines.empty());
  CHECK(t.producerState == "paused");
  p.resumeProducing();
  CHECK(p.lines == lines_t{"1", "2"});
  CHECK(t.producerState == "producing");
}

TEST_CASE("A.05 LineReceiver sendLine", "[protocols][twisted]") {
  LR p;
  StringTransport t;
  p.makeConnection(&t);
  p.sendLine("hello");
  CHECK(t.value() == "hello\r\n");
}

TEST_CASE("LineReceiver clearLineBuffer also returns data received re-entrantly", "[protocols][twisted]") {
  // Twisted appends a re-entrant dataReceived to its buffer at once, so clearLineBuffer returns it
  // (Twisted 22.4: lines [b'GO'], cleared b'after\r\ninner\r\n').
  struct P : LineReceiver {
    lines_t lines;
    std::string rest;
    void lineReceived(std::string_view line) override {
      lines.emplace_back(line);
      if (line == "GO") {
        dataReceived("inner\r\n");
        rest = clearLineBuffer();
      }
    }
  };
  P p;
  StringTransport t;
  p.makeConnection(&t);
  p.dataReceived("GO\r\nafter\r\n");
  CHECK(p.lines == lines_t{"GO"});
  CHECK(p.rest == "after\r\ninner\r\n");
  CHECK(p.buffered().empty());
}
