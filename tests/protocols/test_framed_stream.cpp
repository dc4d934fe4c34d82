// The coroutine surface (framed_stream.hpp) over real loopback sockets: line_reader, netstring_reader
// and int_string_reader deliver what the callback classes deliver for the same bytes, written in
// pieces of 1, 3 and 1000 bytes (TCP_NODELAY, one loop turn between pieces, so the reader sees partial
// messages); format errors are error values; the writers produce the exact bytes.
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <torsion/core/when_all.hpp>
#include <torsion/io/ops.hpp>
#include <torsion/io/proactor.hpp>
#include <torsion/net/tcp_stream.hpp>
#include <torsion/protocols/framed_stream.hpp>
#include <torsion/protocols/int_string_receiver.hpp>
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/protocols/netstring_receiver.hpp>
#include <torsion/testing/string_transport.hpp>
#include <vector>

#include "support/loopback.hpp"

using namespace torsion;
using strings_t = std::vector<std::string>;
using namespace std::string_literals;

namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// Write `bytes` in pieces of `piece` bytes, one loop turn apart, then send FIN.
task<void> write_in_pieces(tcp_stream& s, std::string bytes, std::size_t piece) {
  for (std::size_t i = 0; i < bytes.size(); i += piece) {
    const std::string_view part = std::string_view(bytes).substr(i, piece);
    auto r = co_await s.write_all(bytes_of(part));
    REQUIRE(r);
    (void)co_await nop();
  }
  REQUIRE(s.shutdown_write());
}

// Everything a reader delivered up to its first error (or up to `errors` errors), that error, and
// what the reader says about it.
struct read_log {
  strings_t messages;
  std::error_code end;
  std::error_code again;       // a final error (netstring, length limit): what one more next() says
  std::string rest;            // line_reader: what is buffered at the end
  bool parse_error = false;    // netstring_reader: parse_error() is set
  std::uint64_t exceeded = 0;  // int_string_reader: exceeded_length()
};

template <class Reader>
task<read_log> read_all(Reader& r, int errors = 1) {
  read_log log;
  for (;;) {
    auto m = co_await r.next();
    if (m) {
      log.messages.emplace_back(m.value());
      continue;
    }
    log.end = m.error();
    if (m.error() == errc::connection_done || --errors == 0) break;
  }
  if (log.end == errc::netstring_parse_error || log.end == errc::length_limit_exceeded) {
    auto again = co_await r.next();
    log.again = again ? std::error_code{} : again.error();
  }
  if constexpr (requires { r.buffered(); }) log.rest = std::string(r.buffered());
  if constexpr (requires { r.parse_error(); }) log.parse_error = r.parse_error() != nullptr;
  if constexpr (requires { r.exceeded_length(); }) log.exceeded = r.exceeded_length();
  co_return log;
}

template <class Reader, class Make>
task<read_log> write_and_read(int wfd, int rfd, std::string bytes, std::size_t piece, Make make, int errors) {
  tcp_stream w(wfd, *proactor::current()), r(rfd, *proactor::current());
  REQUIRE(w.set_no_delay(true));
  Reader reader = make(r);
  auto [written, log] = co_await when_all(write_in_pieces(w, std::move(bytes), piece), read_all(reader, errors));
  (void)written;
  co_return log;
}

// Send `bytes` over a fresh loopback pair in pieces of `piece` bytes and read them with make(stream).
template <class Reader, class Make>
read_log over_loopback(const std::string& bytes, std::size_t piece, Make make, int errors = 1) {
  proactor px;
  auto fds = torsion_test::tcp_pair();
  const int a = fds.release_a(), b = fds.release_b();
  return px.run(write_and_read<Reader>(a, b, bytes, piece, make, errors));
}

// Raw bytes until the peer's FIN.
task<std::string> read_to_end(tcp_stream& s) {
  std::string out;
  std::array<std::byte, 4096> buf;
  for (;;) {
    auto n = co_await s.read_some(buf);
    REQUIRE(n);
    if (n.value() == 0) co_return out;
    out.append(reinterpret_cast<const char*>(buf.data()), n.value());
  }
}

// The callback classes, for comparison: one dataReceived call with all the bytes.
struct Lines : twisted::LineReceiver {
  strings_t got;
  bool exceeded = false;
  void lineReceived(std::string_view l) override { got.emplace_back(l); }
  void lineLengthExceeded(std::string_view) override { exceeded = true; }
};
struct Netstrings : twisted::NetstringReceiver {
  strings_t got;
  void stringReceived(std::string_view s) override { got.emplace_back(s); }
};
template <class Base>
struct Strings : Base {
  strings_t got;
  std::uint64_t exceeded = 0;
  void stringReceived(std::string_view s) override { got.emplace_back(s); }
  void lengthLimitExceeded(std::uint64_t n) override { exceeded = n; }
};

template <class P>
P fed(std::string_view bytes, std::size_t max_length = 0) {
  P p;
  if (max_length) p.MAX_LENGTH = max_length;
  torsion::testing::StringTransport t;
  p.makeConnection(&t);
  p.dataReceived(bytes);
  return p;
}

std::string pack(unsigned prefix_length, std::uint64_t n) {
  std::string out(prefix_length, '\0');
  for (unsigned i = prefix_length; i-- > 0; n >>= 8) out[i] = static_cast<char>(n & 0xff);
  return out;
}

std::string x(std::size_t n, char c = 'x') { return std::string(n, c); }

auto lines_of = [](tcp_stream& s) { return line_reader(s); };

}  // namespace

TEST_CASE("line_reader delivers the lines LineReceiver delivers", "[protocols]") {
  const std::string stream = std::string("abc\r\n\r\ndef\r\n") + x(16384) + "\r\nlast\r\npartial";
  const Lines cb = fed<Lines>(stream);
  REQUIRE(cb.got == strings_t{"abc", "", "def", x(16384), "last"});
  for (const std::size_t piece : {1, 3, 1000}) {
    INFO("pieces of " << piece);
    const read_log got = over_loopback<line_reader>(stream, piece, lines_of);
    CHECK(got.messages == cb.got);
    CHECK(got.end == errc::connection_done);
    CHECK(got.rest == "partial");  // a partial message stays buffered
  }
}

TEST_CASE("line_reader with LineOnlyReceiver rules and its own delimiter", "[protocols]") {
  const std::string stream = "12345678\nok\n\n";
  auto make = [](tcp_stream& s) {
    return line_reader(s,
                       {.delimiter = "\n", .max_length = 8, .rules = line_rules::line_only_receiver, .read_size = 5});
  };
  for (const std::size_t piece : {1, 3, 1000}) {
    INFO("pieces of " << piece);
    const read_log got = over_loopback<line_reader>(stream, piece, make);
    CHECK(got.messages == strings_t{"12345678", "ok", ""});
    CHECK(got.end == errc::connection_done);
  }
  // Over max_length (8) and unterminated: too long at 9 bytes under these rules.
  const read_log bad = over_loopback<line_reader>("ok\n123456789", 3, make);
  CHECK(bad.messages == strings_t{"ok"});
  CHECK(bad.end == errc::line_too_long);
}

TEST_CASE("line_reader reports line_too_long and goes on after it", "[protocols]") {
  // "ok", then a terminated line of MAX_LENGTH + 1: LineReceiver calls lineLengthExceeded.
  const std::string stream = std::string("ok\r\n") + x(16385) + "\r\n";
  const Lines cb = fed<Lines>(stream);
  REQUIRE(cb.got == strings_t{"ok"});
  REQUIRE(cb.exceeded);
  for (const std::size_t piece : {1, 3, 1000}) {
    INFO("pieces of " << piece);
    const read_log got = over_loopback<line_reader>(stream, piece, lines_of, 2);
    CHECK(got.messages == strings_t{"ok"});
    // The error, then the end of the stream: at most the "\n" of a delimiter that the cut split.
    CHECK(got.end == errc::connection_done);
    CHECK((got.rest.empty() || got.rest == "\n"));
  }
  // Unterminated: MAX_LENGTH + 2 bytes are too long (the delimiter allowance), MAX_LENGTH + 1 wait.
  CHECK(over_loopback<line_reader>(x(16386), 1000, lines_of).end == errc::line_too_long);
  const read_log waiting = over_loopback<line_reader>(x(16385), 1000, lines_of);
  CHECK(waiting.end == errc::connection_done);
  CHECK(waiting.rest.size() == 16385);
}

TEST_CASE("netstring_reader delivers the strings NetstringReceiver delivers", "[protocols]") {
  const std::string stream = "3:abc,0:,5:hello,4:1:a,,12:hello\r\nworld,";
  const Netstrings cb = fed<Netstrings>(stream);
  REQUIRE(cb.got == strings_t{"abc", "", "hello", "1:a,", "hello\r\nworld"});
  for (const std::size_t piece : {1, 3, 1000}) {
    INFO("pieces of " << piece);
    const read_log got =
        over_loopback<netstring_reader>(stream, piece, [](tcp_stream& s) { return netstring_reader(s); });
    CHECK(got.messages == cb.got);
    CHECK(got.end == errc::connection_done);
  }
  // The longest netstring MAX_LENGTH allows (larger pieces only: 100 kB).
  const std::string big = std::string("99999:") + x(99999, 'n') + ",";
  for (const std::size_t piece : {1000, 65536}) {
    const read_log got = over_loopback<netstring_reader>(big, piece, [](tcp_stream& s) { return netstring_reader(s); });
    CHECK(got.messages == strings_t{x(99999, 'n')});
    CHECK(got.end == errc::connection_done);
  }
}

TEST_CASE("netstring_reader reports netstring_parse_error for good", "[protocols]") {
  for (const std::string bad : {"03:abc,", "3:abcd,", "3:abc;", "abc", "100000:", "1234567:"}) {
    const std::string stream = std::string("3:abc,") + bad + "3:abc,";
    INFO(stream);
    const Netstrings cb = fed<Netstrings>(stream);
    REQUIRE(cb.brokenPeer == 1);
    for (const std::size_t piece : {1, 3, 1000}) {
      INFO("pieces of " << piece);
      const read_log got =
          over_loopback<netstring_reader>(stream, piece, [](tcp_stream& s) { return netstring_reader(s); });
      CHECK(got.messages == cb.got);
      CHECK(got.end == errc::netstring_parse_error);
      CHECK(got.again == errc::netstring_parse_error);  // final: every later call says so too
      CHECK(got.parse_error);
    }
  }
}

TEST_CASE("int_string_reader delivers the strings the IntNStringReceivers deliver", "[protocols]") {
  for (const unsigned n : {4u, 2u, 1u}) {
    INFO("prefix length " << n);
    std::string stream;
    for (const std::size_t len : {0u, 1u, 3u, 255u}) stream += pack(n, len) + x(len, static_cast<char>('a' + len % 26));
    strings_t expected;
    if (n == 4) expected = fed<Strings<twisted::Int32StringReceiver>>(stream).got;
    if (n == 2) expected = fed<Strings<twisted::Int16StringReceiver>>(stream).got;
    if (n == 1) expected = fed<Strings<twisted::Int8StringReceiver>>(stream).got;
    REQUIRE(expected.size() == 4);
    for (const std::size_t piece : {1, 3, 1000}) {
      INFO("pieces of " << piece);
      const read_log got =
          over_loopback<int_string_reader>(stream, piece, [n](tcp_stream& s) { return int_string_reader(s, n); });
      CHECK(got.messages == expected);
      CHECK(got.end == errc::connection_done);
    }
  }
  // MAX_LENGTH itself (larger pieces only: 100 kB).
  const std::string big = pack(4, 99999) + x(99999, 'q');
  const read_log got = over_loopback<int_string_reader>(big, 1000, [](tcp_stream& s) { return int_string_reader(s); });
  CHECK(got.messages == strings_t{x(99999, 'q')});
  CHECK(got.end == errc::connection_done);
}

TEST_CASE("int_string_reader reports length_limit_exceeded as soon as the prefix is in", "[protocols]") {
  struct row {
    unsigned prefix;
    std::size_t max_length;
    std::uint64_t length;
  };
  for (const row r : {row{4, 99999, 100000}, row{4, 99999, 0xffffffff}, row{2, 10, 11}, row{1, 10, 11}}) {
    INFO("prefix " << r.prefix << " length " << r.length);
    // Only the prefix and a little of the payload arrive: the limit is checked before any waiting.
    const std::string stream = pack(r.prefix, 1) + "z" + pack(r.prefix, r.length) + "abc";
    for (const std::size_t piece : {1, 3, 1000}) {
      INFO("pieces of " << piece);
      const read_log got = over_loopback<int_string_reader>(
          stream, piece, [r](tcp_stream& s) { return int_string_reader(s, r.prefix, r.max_length); });
      CHECK(got.messages == strings_t{"z"});
      CHECK(got.end == errc::length_limit_exceeded);
      CHECK(got.again == errc::length_limit_exceeded);
      CHECK(got.exceeded == r.length);
    }
  }
}

TEST_CASE("write_line write_netstring and write_int_string produce the exact bytes", "[protocols]") {
  proactor px;
  auto fds = torsion_test::tcp_pair();
  const std::string got = px.run([](int wfd, int rfd) -> task<std::string> {
    tcp_stream w(wfd, *proactor::current()), r(rfd, *proactor::current());
    auto writer = [](tcp_stream& s) -> task<void> {
      auto r1 = co_await write_line(s, "hello");
      auto r2 = co_await write_line(s, "");
      auto r3 = co_await write_line(s, "x", "\n");
      auto r4 = co_await write_netstring(s, "hello");
      auto r5 = co_await write_netstring(s, "");
      auto r6 = co_await write_int_string(s, "foo");
      auto r7 = co_await write_int_string(s, "foo", 2);
      auto r8 = co_await write_int_string(s, "foo", 1);
      auto r9 = co_await write_int_string(s, "", 1);
      CHECK((r1 && r2 && r3 && r4 && r5 && r6 && r7 && r8 && r9));
      REQUIRE(s.shutdown_write());
    };
    auto [done, bytes] = co_await when_all(writer(w), read_to_end(r));
    (void)done;
    co_return bytes;
  }(fds.release_a(), fds.release_b()));
  const std::string expected =
      "hello\r\n"
      "\r\n"
      "x\n"
      "5:hello,"
      "0:,"
      "\0\0\0\3foo"
      "\0\3foo"
      "\3foo"
      "\0"s;
  CHECK(got == expected);
  // And the callback parsers read them back.
  CHECK(fed<Lines>(got.substr(0, 9)).got == strings_t{"hello", ""});
  CHECK(fed<Netstrings>(got.substr(11, 11)).got == strings_t{"hello", ""});
  CHECK(fed<Strings<twisted::Int32StringReceiver>>(got.substr(22, 7)).got == strings_t{"foo"});
}

TEST_CASE("write_int_string of an oversize payload is string_too_long and sends nothing", "[protocols]") {
  proactor px;
  auto fds = torsion_test::tcp_pair();
  const std::string got = px.run([](int wfd, int rfd) -> task<std::string> {
    tcp_stream w(wfd, *proactor::current()), r(rfd, *proactor::current());
    auto writer = [](tcp_stream& s) -> task<void> {
      const std::string b256(256, 'b'), b65536(65536, 'b');
      auto r1 = co_await write_int_string(s, b256, 1);
      REQUIRE_FALSE(r1);
      CHECK(r1.error() == errc::string_too_long);
      auto r2 = co_await write_int_string(s, b65536, 2);
      REQUIRE_FALSE(r2);
      CHECK(r2.error() == errc::string_too_long);
      auto ok = co_await write_int_string(s, std::string_view(b256).substr(1), 1);  // 255 fits
      REQUIRE(ok);
      REQUIRE(s.shutdown_write());
    };
    auto [done, bytes] = co_await when_all(writer(w), read_to_end(r));
    (void)done;
    co_return bytes;
  }(fds.release_a(), fds.release_b()));
  CHECK(got == std::string(1, '\xff') + std::string(255, 'b'));
}
