// NetstringReceiver conformance: Twisted's NetstringReceiverTests (twisted/protocols/test/test_basic.py)
// and the NetstringReceiver rows of spec §4.3 / Appendix A.05, each in every chunking.
#include <catch2/catch.hpp>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <torsion/protocols/netstring_receiver.hpp>
#include <torsion/testing/string_transport.hpp>
#include <vector>

#include "protocols/chunked.hpp"

using namespace torsion;
using namespace torsion::twisted;
using torsion::testing::StringTransport;
using torsion_test::check_every_chunking;
using torsion_test::feed_context;
using strings_t = std::vector<std::string>;

namespace {

// Twisted's TestNetstring (TestMixin): MAX_LENGTH 50, records and echoes each string, notes the close.
struct TestNetstring : NetstringReceiver {
  strings_t received;
  int closed = 0;
  TestNetstring() { MAX_LENGTH = 50; }
  void connectionMade() override { received.clear(); }
  void stringReceived(std::string_view s) override {
    received.emplace_back(s);
    transport->write(s);
  }
  void connectionLost(const Failure&) override { closed = 1; }
};

// Spec script 05's NS: the default MAX_LENGTH (99999).
struct NS : NetstringReceiver {
  strings_t got;
  void stringReceived(std::string_view s) override { got.emplace_back(s); }
};

struct ns_outcome {
  strings_t received;
  int brokenPeer;
  bool disconnecting;
  bool operator==(const ns_outcome&) const = default;
};
std::ostream& operator<<(std::ostream& os, const ns_outcome& o) {
  return os << "received " << Catch::StringMaker<strings_t>::convert(o.received) << " brokenPeer " << o.brokenPeer
            << " disconnecting " << o.disconnecting;
}

template <class P>
auto maker() {
  return [] { return std::make_unique<P>(); };
}

auto outcome_of = [](TestNetstring& p, feed_context& c) {
  return ns_outcome{p.received, p.brokenPeer, c.transport.disconnecting};
};

// Twisted's setUp: a TestNetstring on a StringTransport.
using Fixture = torsion_test::connected<TestNetstring>;

// A good input: the strings arrive, in every chunking.
void check_receives(const std::string& input, const strings_t& expected) {
  Fixture f;
  f.proto.dataReceived(input);
  CHECK(f.proto.received == expected);
  check_every_chunking(input, maker<TestNetstring>(), outcome_of, ns_outcome{expected, 0, false});
}

// A bad input: refused (loseConnection, brokenPeer), in every chunking.
void check_refused(const std::string& input) {
  Fixture f;
  f.proto.dataReceived(input);
  CHECK(f.transport.disconnecting);
  CHECK(f.proto.brokenPeer == 1);
  CHECK(f.proto.parseError() != nullptr);
  check_every_chunking(input, maker<TestNetstring>(), outcome_of, ns_outcome{{}, 1, true});
}

}  // namespace

TEST_CASE("NetstringReceiverTests.test_buffer", "[protocols][twisted]") {
  const strings_t strings{"hello", "world", "how", "are", "you123", ":today", std::string(515, 'a')};
  auto make = [] {
    auto p = std::make_unique<TestNetstring>();
    p->MAX_LENGTH = 699;
    return p;
  };
  auto sender = make();
  StringTransport t;
  sender->makeConnection(&t);
  for (const auto& s : strings) sender->sendString(s);
  const std::string out = t.value();
  // Twisted: packet sizes 1..9; here every chunking.
  check_every_chunking(out, make, outcome_of, ns_outcome{strings, 0, false});
}

TEST_CASE("NetstringReceiverTests.test_receiveEmptyNetstring", "[protocols][twisted]") { check_receives("0:,", {""}); }

TEST_CASE("NetstringReceiverTests.test_receiveOneCharacter", "[protocols][twisted]") { check_receives("1:a,", {"a"}); }

TEST_CASE("NetstringReceiverTests.test_receiveTwoCharacters", "[protocols][twisted]") {
  check_receives("2:ab,", {"ab"});
}

TEST_CASE("NetstringReceiverTests.test_receiveNestedNetstring", "[protocols][twisted]") {
  check_receives("4:1:a,,", {"1:a,"});
}

TEST_CASE("NetstringReceiverTests.test_moreDataThanSpecified", "[protocols][twisted]") { check_refused("2:aaa,"); }

TEST_CASE("NetstringReceiverTests.test_moreDataThanSpecifiedBorderCase", "[protocols][twisted]") {
  check_refused("0:a,");
}

TEST_CASE("NetstringReceiverTests.test_missingNumber", "[protocols][twisted]") { check_refused(":aaa,"); }

TEST_CASE("NetstringReceiverTests.test_missingColon", "[protocols][twisted]") { check_refused("3aaa,"); }

TEST_CASE("NetstringReceiverTests.test_missingNumberAndColon", "[protocols][twisted]") { check_refused("aaa,"); }

TEST_CASE("NetstringReceiverTests.test_onlyData", "[protocols][twisted]") { check_refused("aaa"); }

TEST_CASE("NetstringReceiverTests.test_receiveNetstringPortions_1", "[protocols][twisted]") {
  Fixture f;
  f.proto.dataReceived("4:aa");
  f.proto.dataReceived("aa,");
  CHECK(f.proto.received == strings_t{"aaaa"});
  // Twisted's _payloadComplete(): nothing of a payload is pending; the next length is awaited.
  CHECK(f.proto.expectedPayloadSize() == 0);
  CHECK(f.proto.buffered().empty());
  check_receives("4:aaaa,", {"aaaa"});
}

TEST_CASE("NetstringReceiverTests.test_receiveNetstringPortions_2", "[protocols][twisted]") {
  Fixture f;
  for (const char* part : {"1", "0:01234", "56789", ","}) f.proto.dataReceived(part);
  CHECK(f.proto.received == strings_t{"0123456789"});
  check_receives("10:0123456789,", {"0123456789"});
}

TEST_CASE("NetstringReceiverTests.test_receiveNetstringPortions_3", "[protocols][twisted]") {
  Fixture f;
  for (const char* part : {"2", ":", "a", "b", ","}) f.proto.dataReceived(part);
  CHECK(f.proto.received == strings_t{"ab"});
}

TEST_CASE("NetstringReceiverTests.test_receiveTwoNetstrings", "[protocols][twisted]") {
  Fixture f;
  f.proto.dataReceived("1:a,1");
  CHECK(f.proto.expectedPayloadSize() == 0);  // Twisted: _payloadComplete()
  CHECK(f.proto.buffered() == "1");
  CHECK(f.proto.received == strings_t{"a"});
  f.proto.dataReceived(":b,");
  CHECK(f.proto.received == strings_t{"a", "b"});
  check_receives("1:a,1:b,", {"a", "b"});
}

TEST_CASE("NetstringReceiverTests.test_maxReceiveLimit", "[protocols][twisted]") {
  const std::size_t tooLong = 50 + 1;
  // Twisted writes bytes(tooLong), which in Python 3 is 51 NUL bytes, not b"51": refused either way.
  check_refused(std::string(tooLong, '\0') + ":" + std::string(tooLong, 'a'));
  // What the test means: a length of MAX_LENGTH + 1.
  check_refused(std::to_string(tooLong) + ":" + std::string(tooLong, 'a'));
}

TEST_CASE("NetstringReceiverTests.test_consumeLength", "[protocols][twisted]") {
  // Twisted calls _consumeLength on _remainingData = b"12:"; here the same bytes go through
  // dataReceived and expectedPayloadSize() is Twisted's _expectedPayloadSize.
  Fixture f;
  f.proto.dataReceived("12:");
  CHECK(f.proto.expectedPayloadSize() == 13);
}

TEST_CASE("NetstringReceiverTests.test_consumeLengthBorderCase1", "[protocols][twisted]") {
  Fixture f;
  f.proto.MAX_LENGTH = 12;
  f.proto.dataReceived("12:");
  CHECK(f.proto.expectedPayloadSize() == 13);
  CHECK(f.proto.brokenPeer == 0);
}

TEST_CASE("NetstringReceiverTests.test_consumeLengthBorderCase2", "[protocols][twisted]") {
  // NetstringParseError: here brokenPeer, a disconnect and the reason.
  Fixture f;
  f.proto.MAX_LENGTH = 11;
  f.proto.dataReceived("12:");
  CHECK(f.proto.brokenPeer == 1);
  CHECK(f.transport.disconnecting);
  REQUIRE(f.proto.parseError() != nullptr);
  CHECK_THAT(f.proto.parseError(), Catch::Contains("longer than the maximum"));
}

TEST_CASE("NetstringReceiverTests.test_consumeLengthBorderCase3", "[protocols][twisted]") {
  Fixture f;
  f.proto.MAX_LENGTH = 11;
  f.proto.dataReceived("1000:");
  CHECK(f.proto.brokenPeer == 1);
  REQUIRE(f.proto.parseError() != nullptr);
  CHECK_THAT(f.proto.parseError(), Catch::Contains("longer than the maximum"));
}

TEST_CASE("NetstringReceiverTests.test_stringReceivedNotImplemented", "[protocols][twisted]") {
  NetstringReceiver proto;
  CHECK_THROWS_WITH(proto.stringReceived("foo"), Catch::Contains("NotImplementedError"));
}

TEST_CASE("NetstringReceiverTests.test_illegal", "[protocols][twisted]") {
  // LPTestCaseMixin.test_illegal: each fed one byte at a time (and here in every chunking).
  for (const std::string s :
       {"9999999999999999999999", "abc", "4:abcde", "51:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab,"}) {
    INFO(s);
    Fixture f;
    for (char c : s) f.proto.dataReceived(std::string_view(&c, 1));
    CHECK(f.transport.disconnecting);
    check_every_chunking(
        s, maker<TestNetstring>(), [](TestNetstring&, feed_context& c) { return c.transport.disconnecting; }, true);
  }
}

// ---- Spec §4.3 / A.05 (MAX_LENGTH 99999) ----

TEST_CASE("A.05 NetstringReceiver inputs", "[protocols][twisted]") {
  struct row {
    std::string data;
    strings_t got;
    int brokenPeer;
  };
  const std::vector<row> rows{{"3:abc,", {"abc"}, 0},
                              {"0:,", {""}, 0},
                              {"3:ab", {}, 0},
                              {"03:abc,", {}, 1},
                              {"3:abcd,", {}, 1},
                              {"3:abc;", {}, 1},
                              {"abc", {}, 1},
                              {"99999:", {}, 0},
                              {"100000:", {}, 1},
                              {"1234567:", {}, 1},
                              {"5:hello,5:world,", {"hello", "world"}, 0}};
  for (const auto& r : rows) {
    INFO(r.data);
    check_every_chunking(
        r.data, maker<NS>(),
        [](NS& p, feed_context& c) {
          return ns_outcome{p.got, p.brokenPeer, c.transport.disconnecting};
        },
        ns_outcome{r.got, r.brokenPeer, r.brokenPeer == 1});
  }
}

TEST_CASE("A.05 NetstringReceiver sendString", "[protocols][twisted]") {
  NS p;
  StringTransport t;
  p.makeConnection(&t);
  p.sendString("hello");
  CHECK(t.value() == "5:hello,");
  CHECK(p.MAX_LENGTH == 99999);
}

TEST_CASE("NetstringReceiver drops everything after a parse error", "[protocols]") {
  // Difference from Twisted (documented in netstring_receiver.hpp): Twisted keeps buffering what a
  // broken peer sends and parses it again on every call; Torsion drops it.
  NS p;
  StringTransport t;
  p.makeConnection(&t);
  p.dataReceived("abc");
  REQUIRE(p.brokenPeer == 1);
  p.dataReceived("3:abc,");
  p.dataReceived(std::string(100000, 'z'));
  CHECK(p.got.empty());
  CHECK(p.buffered().empty());
  // makeConnection starts afresh, as Twisted initialises its state there.
  StringTransport t2;
  p.makeConnection(&t2);
  CHECK(p.brokenPeer == 0);
  p.dataReceived("3:abc,");
  CHECK(p.got == strings_t{"abc"});
}
