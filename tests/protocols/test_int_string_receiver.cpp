// Int32/Int16/Int8StringReceiver conformance: Twisted's IntNTestCaseMixin and RecvdAttributeMixin (run
// for each of Int32Tests, Int16Tests and Int8Tests), their test_data / test_tooLongSend
// (twisted/protocols/test/test_basic.py), and the IntNStringReceiver rows of spec §4.4 / Appendix A.05.
// The Twisted class each template instance stands for is the name after " - ".
#include <sys/mman.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <torsion/protocols/int_string_receiver.hpp>
#include <torsion/testing/string_transport.hpp>
#include <vector>

#include "protocols/chunked.hpp"

using namespace torsion;
using namespace torsion::twisted;
using torsion::testing::StringTransport;
using torsion_test::check_every_chunking;
using torsion_test::connected;
using torsion_test::feed_context;
using strings_t = std::vector<std::string>;
using namespace std::string_literals;

namespace {

// struct.pack(structFormat, n): big-endian, prefix_length bytes (written out here, not with the
// library's encoder, so the test checks it).
std::string pack(unsigned prefix_length, std::uint64_t n) {
  std::string out(prefix_length, '\0');
  for (unsigned i = prefix_length; i-- > 0; n >>= 8) out[i] = static_cast<char>(n & 0xff);
  return out;
}

// Twisted's TestInt32 / TestInt16 / TestInt8 (TestMixin): MAX_LENGTH 50, records the strings, notes the
// close. The hooks stand in for Twisted's tests assigning r.stringReceived / r.lengthLimitExceeded.
template <class Base>
struct TestIntN : Base {
  strings_t received;
  int closed = 0;
  std::function<void(std::string_view)> onString;
  std::function<void(std::uint64_t)> onLengthLimitExceeded;

  TestIntN() { this->MAX_LENGTH = 50; }
  void connectionMade() override { received.clear(); }
  void stringReceived(std::string_view s) override {
    if (onString) return onString(s);
    received.emplace_back(s);
  }
  void lengthLimitExceeded(std::uint64_t length) override {
    if (onLengthLimitExceeded) return onLengthLimitExceeded(length);
    Base::lengthLimitExceeded(length);
  }
  void connectionLost(const Failure&) override { closed = 1; }

  std::string makeMessage(std::string_view data) const {
    return pack(this->prefixLength, data.size()) + std::string(data);
  }
};

// The per-class data of Twisted's Int32Tests, Int16Tests and Int8Tests.
struct IntNTests {
  static inline const strings_t strings{"a", std::string(16, 'b')};
};
struct Int32Tests : IntNTests {
  using receiver = Int32StringReceiver;
  using protocol = TestIntN<receiver>;
  static constexpr unsigned prefixLength = 4;
  static inline const std::string sentFoo = "\0\0\0\3foo"s, receivedUbar = "\0\0\0\4ubar"s;
  static inline const strings_t illegalStrings{"\x10\0\0\0aaaaaa"s};
  static inline const strings_t partialStrings{"\0\0\0"s, "hello there", ""};
};
struct Int16Tests : IntNTests {
  using receiver = Int16StringReceiver;
  using protocol = TestIntN<receiver>;
  static constexpr unsigned prefixLength = 2;
  static inline const std::string sentFoo = "\0\3foo"s, receivedUbar = "\0\4ubar"s;
  static inline const strings_t illegalStrings{"\x10\0aaaaaa"s};
  static inline const strings_t partialStrings{"\0"s, "hello there", ""};
};
struct Int8Tests : IntNTests {
  using receiver = Int8StringReceiver;
  using protocol = TestIntN<receiver>;
  static constexpr unsigned prefixLength = 1;
  static inline const std::string sentFoo = "\3foo"s, receivedUbar = "\4ubar"s;
  static inline const strings_t illegalStrings{"\0\0aaaaaa"s};
  static inline const strings_t partialStrings{"\x08"s, "dzadz", ""};
};

template <class P>
auto maker(std::optional<std::size_t> max_length = {}) {
  return [max_length] {
    auto p = std::make_unique<P>();
    if (max_length) p->MAX_LENGTH = *max_length;
    return p;
  };
}

struct int_outcome {
  strings_t received;
  bool disconnecting;
  bool operator==(const int_outcome&) const = default;
};
std::ostream& operator<<(std::ostream& os, const int_outcome& o) {
  return os << "received " << Catch::StringMaker<strings_t>::convert(o.received) << " disconnecting "
            << o.disconnecting;
}

// A read-only mapping of `n` bytes that are never touched: a string_view over it is a valid range
// of 4 GiB without 4 GiB of memory (for sendString's size check, which must not read the bytes).
struct untouched_bytes {
  void* p;
  std::size_t n;
  explicit untouched_bytes(std::size_t size)
      : p(::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)), n(size) {}
  ~untouched_bytes() {
    if (p != MAP_FAILED) ::munmap(p, n);
  }
  bool ok() const { return p != MAP_FAILED; }
  std::string_view view() const { return {static_cast<const char*>(p), n}; }
};

}  // namespace

// ---- IntNTestCaseMixin ----

TEMPLATE_TEST_CASE("IntNTestCaseMixin.test_receive", "[protocols][twisted]", Int32Tests, Int16Tests, Int8Tests) {
  using P = typename TestType::protocol;
  connected<P> r;
  std::string all;
  for (const auto& s : TestType::strings) {
    const std::string message = r.proto.makeMessage(s);
    for (char c : message) r.proto.dataReceived(std::string_view(&c, 1));
    all += message;
  }
  CHECK(r.proto.received == TestType::strings);
  check_every_chunking(
      all, maker<P>(), [](P& p, feed_context&) { return p.received; }, TestType::strings);
}

TEMPLATE_TEST_CASE("IntNTestCaseMixin.test_partial", "[protocols][twisted]", Int32Tests, Int16Tests, Int8Tests) {
  using P = typename TestType::protocol;
  for (const auto& s : TestType::partialStrings) {
    INFO(Catch::StringMaker<std::string>::convert(s));
    connected<P> r;
    for (char c : s) r.proto.dataReceived(std::string_view(&c, 1));
    CHECK(r.proto.received.empty());
    check_every_chunking(
        s, maker<P>(), [](P& p, feed_context&) { return p.received; }, strings_t{});
  }
}

TEMPLATE_TEST_CASE("IntNTestCaseMixin.test_send", "[protocols][twisted]", Int32Tests, Int16Tests, Int8Tests) {
  connected<typename TestType::protocol> r;
  REQUIRE(r.proto.sendString(std::string(16, 'b')));
  CHECK(r.transport.value() == pack(r.proto.prefixLength, 16) + std::string(16, 'b'));
}

TEMPLATE_TEST_CASE("IntNTestCaseMixin.test_lengthLimitExceeded", "[protocols][twisted]", Int32Tests, Int16Tests,
                   Int8Tests) {
  using P = typename TestType::protocol;
  auto make = [] {
    auto p = std::make_unique<P>();
    p->MAX_LENGTH = 10;
    p->onLengthLimitExceeded = [q = p.get()](std::uint64_t length) { q->received.push_back(std::to_string(length)); };
    return p;
  };
  // Checked as soon as the prefix is in: the same in every chunking.
  check_every_chunking(
      pack(TestType::prefixLength, 11), make, [](P& p, feed_context&) { return p.received; }, strings_t{"11"});
}

TEMPLATE_TEST_CASE("IntNTestCaseMixin.test_longStringNotDelivered", "[protocols][twisted]", Int32Tests, Int16Tests,
                   Int8Tests) {
  using P = typename TestType::protocol;
  check_every_chunking(
      pack(TestType::prefixLength, 11) + std::string(11, 'x'), maker<P>(10),
      [](P& p, feed_context& c) {
        return int_outcome{p.received, c.transport.disconnecting};
      },
      int_outcome{{}, true});
}

TEMPLATE_TEST_CASE("IntNTestCaseMixin.test_stringReceivedNotImplemented", "[protocols][twisted]", Int32Tests,
                   Int16Tests, Int8Tests) {
  // Twisted instantiates the abstract IntNStringReceiver; here each concrete class's default.
  typename TestType::receiver proto;
  CHECK_THROWS_WITH(proto.stringReceived("foo"), Catch::Contains("NotImplementedError"));
}

TEMPLATE_TEST_CASE("IntNTestCaseMixin.test_illegal", "[protocols][twisted]", Int32Tests, Int16Tests, Int8Tests) {
  using P = typename TestType::protocol;
  for (const auto& s : TestType::illegalStrings) {
    connected<P> r;
    for (char c : s) r.proto.dataReceived(std::string_view(&c, 1));
    CHECK(r.transport.disconnecting);
    check_every_chunking(
        s, maker<P>(), [](P&, feed_context& c) { return c.transport.disconnecting; }, true);
  }
}

// ---- RecvdAttributeMixin (single dataReceived calls, as in Twisted: recvd depends on the chunking) ----

TEMPLATE_TEST_CASE("RecvdAttributeMixin.test_recvdContainsRemainingData", "[protocols][twisted]", Int32Tests,
                   Int16Tests, Int8Tests) {
  connected<typename TestType::protocol> r;
  strings_t result;
  r.proto.onString = [&](std::string_view) { result.emplace_back(r.proto.recvd()); };
  const std::string completeMessage = pack(r.proto.prefixLength, 5) + std::string(5, 'a');
  const std::string incompleteMessage = pack(r.proto.prefixLength, 5) + std::string(4, 'b');
  r.proto.dataReceived(completeMessage + incompleteMessage);
  CHECK(result == strings_t{incompleteMessage});
}

TEMPLATE_TEST_CASE("RecvdAttributeMixin.test_recvdChanged", "[protocols][twisted]", Int32Tests, Int16Tests, Int8Tests) {
  connected<typename TestType::protocol> r;
  strings_t result;
  const std::string payloadC(5, 'c');
  const std::string messageC = r.proto.makeMessage(payloadC);
  r.proto.onString = [&](std::string_view receivedString) {
    if (result.empty()) r.proto.setRecvd(messageC);
    result.emplace_back(receivedString);
  };
  const std::string payloadA(5, 'a'), payloadB(5, 'b');
  r.proto.dataReceived(r.proto.makeMessage(payloadA) + r.proto.makeMessage(payloadB));
  CHECK(result == strings_t{payloadA, payloadC});
}

TEMPLATE_TEST_CASE("RecvdAttributeMixin.test_switching", "[protocols][twisted]", Int32Tests, Int16Tests, Int8Tests) {
  connected<typename TestType::protocol> r;
  const std::string SWITCH(4, '\0');
  std::string mix;
  for (const auto& s : TestType::strings) mix += r.proto.makeMessage(s) + SWITCH;
  strings_t result;
  r.proto.onString = [&](std::string_view receivedString) {
    result.emplace_back(receivedString);
    r.proto.setRecvd(r.proto.recvd().substr(SWITCH.size()));
  };
  r.proto.dataReceived(mix);
  // Just another byte, to trigger processing of anything left in the buffer (should be nothing).
  r.proto.dataReceived("\x01");
  CHECK(result == TestType::strings);
  CHECK(r.proto.recvd() == "\x01");
}

TEMPLATE_TEST_CASE("RecvdAttributeMixin.test_recvdInLengthLimitExceeded", "[protocols][twisted]", Int32Tests,
                   Int16Tests, Int8Tests) {
  connected<typename TestType::protocol> r;
  const std::string DATA = "too long";
  r.proto.MAX_LENGTH = DATA.size() - 1;
  const std::string message = r.proto.makeMessage(DATA);
  std::vector<std::uint64_t> lengths;
  strings_t recvds;
  r.proto.onLengthLimitExceeded = [&](std::uint64_t length) {
    lengths.push_back(length);
    recvds.emplace_back(r.proto.recvd());
  };
  r.proto.dataReceived(message);
  CHECK(lengths == std::vector<std::uint64_t>{DATA.size()});
  CHECK(recvds == strings_t{message});
}

// ---- Int32Tests / Int16Tests / Int8Tests' own ----

TEMPLATE_TEST_CASE("IntNTests.test_data", "[protocols][twisted]", Int32Tests, Int16Tests, Int8Tests) {
  // Twisted's Int32Tests / Int16Tests / Int8Tests.test_data: the bytes are spelled out there.
  connected<typename TestType::protocol> r;
  REQUIRE(r.proto.sendString("foo"));
  CHECK(r.transport.value() == TestType::sentFoo);
  r.proto.dataReceived(TestType::receivedUbar);
  CHECK(r.proto.received == strings_t{"ubar"});
}

TEMPLATE_TEST_CASE("IntNTests.test_tooLongSend", "[protocols][twisted]", Int16Tests, Int8Tests) {
  // Twisted raises StringTooLongError (an AssertionError); Torsion returns string_too_long and
  // writes nothing.
  connected<typename TestType::protocol> r;
  const std::string tooSend(std::size_t{1} << (r.proto.prefixLength * 8), 'b');
  const auto res = r.proto.sendString(tooSend + "b");
  REQUIRE_FALSE(res);
  CHECK(res.error() == errc::string_too_long);
  // The boundary (A.05): 2**(8 * prefixLength) bytes is too long, one fewer is sent.
  CHECK(r.proto.sendString(tooSend).error() == errc::string_too_long);
  CHECK(r.transport.value().empty());
  REQUIRE(r.proto.sendString(std::string_view(tooSend).substr(1)));
  CHECK(r.transport.value() == pack(r.proto.prefixLength, tooSend.size() - 1) + tooSend.substr(1));
}

// ---- Spec §4.4 / A.05 ----

TEMPLATE_TEST_CASE("A.05 IntNStringReceiver family", "[protocols][twisted]", Int32Tests, Int16Tests, Int8Tests) {
  using P = typename TestType::protocol;
  const unsigned n = TestType::prefixLength;
  typename TestType::receiver plain;
  CHECK(plain.prefixLength == n);
  CHECK(plain.MAX_LENGTH == 99999);

  // sendString(b'foo'); recv: got=[b'ubar'] recvd(pending)=pack(2) + b'x'
  connected<P> r;
  REQUIRE(r.proto.sendString("foo"));
  CHECK(r.transport.value() == pack(n, 3) + "foo");
  r.proto.dataReceived(pack(n, 4) + "ubar" + pack(n, 2) + "x");
  CHECK(r.proto.received == strings_t{"ubar"});
  CHECK(r.proto.recvd() == pack(n, 2) + "x");

  // MAX_LENGTH=10: got=[10] lengthLimitExceeded(11) disconnecting=True, in every chunking.
  auto make = [] {
    auto p = std::make_unique<P>();
    p->MAX_LENGTH = 10;
    p->onLengthLimitExceeded = [q = p.get()](std::uint64_t length) {
      q->received.push_back("lengthLimitExceeded " + std::to_string(length));
      q->IntNStringReceiver::lengthLimitExceeded(length);  // the default: loseConnection
    };
    return p;
  };
  check_every_chunking(
      pack(n, 10) + std::string(10, 'k') + pack(n, 11) + std::string(11, 'k'), make,
      [](P& p, feed_context& c) {
        return int_outcome{p.received, c.transport.disconnecting};
      },
      int_outcome{{std::string(10, 'k'), "lengthLimitExceeded 11"}, true});
}

TEST_CASE("A.05 Int32StringReceiver sendString of 2^32 bytes is string_too_long", "[protocols][twisted]") {
  // Twisted: StringTooLongError("Try to send 4294967296 bytes whereas maximum is 4294967296").
  untouched_bytes big((std::size_t{1} << 32) + 1);
  REQUIRE(big.ok());
  connected<Int32Tests::protocol> r;
  CHECK(r.proto.sendString(big.view().substr(0, std::size_t{1} << 32)).error() == errc::string_too_long);
  CHECK(r.proto.sendString(big.view()).error() == errc::string_too_long);
  CHECK(r.transport.value().empty());
}

TEMPLATE_TEST_CASE("IntNStringReceiver drops everything after lengthLimitExceeded", "[protocols]", Int32Tests,
                   Int16Tests, Int8Tests) {
  // Difference from Twisted (documented in int_string_receiver.hpp): Twisted keeps buffering and
  // reports the same prefix again on every later call; Torsion keeps the offending message in
  // recvd() and drops what comes after it.
  connected<typename TestType::protocol> r;
  r.proto.MAX_LENGTH = 10;
  std::vector<std::uint64_t> lengths;
  r.proto.onLengthLimitExceeded = [&](std::uint64_t length) { lengths.push_back(length); };
  const std::string message = pack(TestType::prefixLength, 11) + "abc";
  r.proto.dataReceived(message);
  r.proto.dataReceived(pack(TestType::prefixLength, 1) + "z");
  CHECK(lengths == std::vector<std::uint64_t>{11});
  CHECK(r.proto.received.empty());
  CHECK(r.proto.recvd() == message);
}
