// StringTransport and StringTransportWithDisconnection: the facts of spec §4.7 and the
// "StringTransport / StringTransportWithDisconnection" block of Appendix A.05 (twisted/internet/testing.py).
// Not applicable: write(str) raising TypeError("Data must be bytes") (StringTransportTests.test_noUnicode);
// C++ writes take bytes only.
#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <torsion/testing/string_transport.hpp>
#include <vector>

using namespace torsion;
using namespace torsion::twisted;
using torsion::testing::StringTransport;
using torsion::testing::StringTransportWithDisconnection;

namespace {

struct Recorder : Protocol {
  std::vector<Failure> lost;
  void connectionLost(const Failure& reason) override { lost.push_back(reason); }
};

struct NullProducer : IProducer {
  void resumeProducing() override {}
  void stopProducing() override {}
};

}  // namespace

TEST_CASE("StringTransport defaults", "[testing][twisted]") {
  StringTransport t;
  // default getPeer IPv4Address(type='TCP', host='192.168.1.1', port=54321)
  //         getHost IPv4Address(type='TCP', host='10.0.0.1', port=12345)
  CHECK(t.getPeer() == Address{"TCP", "192.168.1.1", 54321});
  CHECK(t.getHost() == Address{"TCP", "10.0.0.1", 12345});
  CHECK(t.connected);
  CHECK_FALSE(t.disconnecting);
  CHECK_FALSE(t.disconnected);
  CHECK(t.producer == nullptr);
  CHECK(t.producerState == "producing");
  CHECK(t.value().empty());

  StringTransport custom({"TCP", "127.0.0.1", 1}, {"TCP", "::1", 2});
  CHECK(custom.getHost() == Address{"TCP", "127.0.0.1", 1});
  CHECK(custom.getPeer() == Address{"TCP", "::1", 2});
}

TEST_CASE("StringTransport value and clear", "[testing][twisted]") {
  StringTransport t;
  t.write("ab");
  const std::vector<std::string_view> pieces{"c", "d"};
  t.writeSequence(pieces);
  CHECK(t.value() == "abcd");
  t.clear();
  CHECK(t.value() == "");
  t.write("e");
  CHECK(t.value() == "e");
}

TEST_CASE("StringTransport loseConnection only sets disconnecting", "[testing][twisted]") {
  Recorder p;
  StringTransport t;
  p.makeConnection(&t);
  t.loseConnection();
  // loseConnection -> disconnecting True disconnected False connected True
  CHECK(t.disconnecting);
  CHECK_FALSE(t.disconnected);
  CHECK(t.connected);
  CHECK(p.lost.empty());  // never connectionLost
}

TEST_CASE("StringTransport abortConnection sets disconnected and disconnecting", "[testing][twisted]") {
  Recorder p;
  StringTransport t;
  p.makeConnection(&t);
  t.abortConnection();
  CHECK(t.disconnecting);
  CHECK(t.disconnected);
  CHECK(t.connected);
  CHECK(p.lost.empty());
}

TEST_CASE("StringTransport producerState and the loseConnection check", "[testing][twisted]") {
  StringTransport t;
  t.pauseProducing();
  CHECK(t.producerState == "paused");
  t.resumeProducing();
  CHECK(t.producerState == "producing");
  t.pauseProducing();
  t.loseConnection();
  // RuntimeError("Cannot resume producing after loseConnection")
  CHECK_THROWS_AS(t.resumeProducing(), std::logic_error);
  CHECK_THROWS_WITH(t.resumeProducing(), "Cannot resume producing after loseConnection");
  CHECK_THROWS_WITH(t.pauseProducing(), "Cannot resume producing after loseConnection");
  CHECK(t.producerState == "paused");

  StringTransport lenient({"TCP", "10.0.0.1", 12345}, {"TCP", "192.168.1.1", 54321}, true);
  lenient.loseConnection();
  CHECK_NOTHROW(lenient.resumeProducing());
  CHECK(lenient.producerState == "producing");
}

TEST_CASE("StringTransport stopProducing is final", "[testing][twisted]") {
  StringTransport t;
  t.stopProducing();
  CHECK(t.producerState == "stopped");
  CHECK_THROWS_WITH(t.resumeProducing(), "Cannot resume a stopped producer");
  CHECK_THROWS_WITH(t.pauseProducing(), "Cannot resume a stopped producer");
}

TEST_CASE("StringTransport registerProducer and unregisterProducer", "[testing][twisted]") {
  StringTransport t;
  NullProducer a, b;
  REQUIRE(t.registerProducer(&a, true));
  CHECK(t.producer == &a);
  CHECK(t.streaming);
  // RuntimeError("Cannot register two producers")
  const auto second = t.registerProducer(&b, false);
  REQUIRE_FALSE(second);
  CHECK(second.error() == errc::invalid_state);
  CHECK(t.producer == &a);
  t.unregisterProducer();
  CHECK(t.producer == nullptr);
  CHECK_FALSE(t.streaming);
  // RuntimeError("Cannot unregister a producer unless one is registered")
  CHECK_THROWS_WITH(t.unregisterProducer(), "Cannot unregister a producer unless one is registered");
  REQUIRE(t.registerProducer(&b, false));
  CHECK_FALSE(t.streaming);
}

TEST_CASE("StringTransport socket options and half-close", "[testing]") {
  StringTransport t;
  CHECK_FALSE(t.getTcpNoDelay());
  CHECK_FALSE(t.getTcpKeepAlive());
  t.setTcpNoDelay(true);
  t.setTcpKeepAlive(true);
  CHECK(t.getTcpNoDelay());
  CHECK(t.getTcpKeepAlive());
  t.loseWriteConnection();
  CHECK(t.writeConnectionLost);
  CHECK_FALSE(t.disconnecting);
}

TEST_CASE("StringTransportWithDisconnection loseConnection calls connectionLost once", "[testing][twisted]") {
  Recorder p;
  StringTransportWithDisconnection t;
  t.protocol = &p;
  p.makeConnection(&t);
  t.loseConnection();
  // connectionLost ConnectionDone Connection was closed cleanly: Bye..
  REQUIRE(p.lost.size() == 1);
  CHECK(p.lost[0].check(errc::connection_done));
  CHECK(p.lost[0].is_clean());
  CHECK_FALSE(t.connected);
  t.loseConnection();  // (second loseConnection is a no-op)
  CHECK(p.lost.size() == 1);
}

TEST_CASE("StringTransportWithDisconnection abortConnection calls connectionLost once", "[testing][twisted]") {
  // Twisted's abortConnection sets disconnected and calls loseConnection, which here ends the
  // connection.
  Recorder p;
  StringTransportWithDisconnection t;
  t.protocol = &p;
  p.makeConnection(&t);
  t.abortConnection();
  CHECK(t.disconnected);
  REQUIRE(p.lost.size() == 1);
  CHECK(p.lost[0].check(errc::connection_done));
  t.abortConnection();
  t.loseConnection();
  CHECK(p.lost.size() == 1);
}
