// MemoryReactor, MemoryReactorClock, FakeConnector and FakePort: the facts of spec §4.7 and the
// "MemoryReactor / MemoryReactorClock" block of Appendix A.05 (twisted/internet/testing.py).
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <torsion/testing/memory_reactor.hpp>
#include <vector>

using namespace torsion;
using namespace torsion::twisted;
using torsion::testing::FakeConnector;
using torsion::testing::FakePort;
using torsion::testing::MemoryReactor;
using torsion::testing::MemoryReactorClock;

namespace {

// Script 05's CF: records what startedConnecting was given, and when.
struct CF : ClientFactory {
  std::vector<std::string> events;
  IConnector* started = nullptr;
  void startedConnecting(IConnector* c) override {
    started = c;
    events.push_back("startedConnecting " + c->getDestination().host + ":" + std::to_string(c->getDestination().port));
  }
};

}  // namespace

TEST_CASE("A.05 MemoryReactor records connectTCP and listenTCP", "[testing][twisted]") {
  MemoryReactorClock mr;
  CF cf;
  auto conn = mr.connectTCP("example.com", 1234, cf, 5, BindAddress{{"1.2.3.4", 0}});
  // startedConnecting with _FakeConnector IPv4Address(type='TCP', host='example.com', port=1234),
  // synchronously: before connectTCP returned.
  CHECK(cf.events == std::vector<std::string>{"startedConnecting example.com:1234"});
  REQUIRE(mr.connectors.size() == 1);
  CHECK(cf.started == mr.connectors[0].get());
  CHECK(conn->getDestination() == Address{"TCP", "example.com", 1234});

  // tcpClients: [('example.com', 1234, 'CF', 5, ('1.2.3.4', 0))]
  REQUIRE(mr.tcpClients.size() == 1);
  const auto& c = mr.tcpClients[0];
  CHECK(c.host == "example.com");
  CHECK(c.port == 1234);
  CHECK(c.factory == &cf);
  CHECK(c.timeout == 5);
  REQUIRE(c.bindAddress.has_value());
  CHECK(c.bindAddress->first == "1.2.3.4");
  CHECK(c.bindAddress->second == 0);

  // tcpServers: [(8080, 'CF', 50, '')] port.getHost() IPv4Address(type='TCP', host='0.0.0.0', port=8080)
  auto port = mr.listenTCP(8080, cf);
  REQUIRE(port);
  REQUIRE(mr.tcpServers.size() == 1);
  const auto& s = mr.tcpServers[0];
  CHECK(s.port == 8080);
  CHECK(s.factory == &cf);
  CHECK(s.backlog == 50);
  CHECK(s.interface == "");
  CHECK(port.value()->getHost() == Address{"TCP", "0.0.0.0", 8080});

  // _FakeConnector.stoppedConnecting True _disconnected True
  REQUIRE(conn->stopConnecting());
  conn->disconnect();
  CHECK(mr.connectors[0]->stoppedConnecting);
  CHECK(mr.connectors[0]->disconnected);

  // MemoryReactorClock.callLater fired at 5
  double firedAt = -1;
  mr.callLater(5, [&] { firedAt = mr.seconds(); });
  mr.advance(4.9);
  CHECK(firedAt == -1);
  mr.advance(0.1);
  CHECK(firedAt == Approx(5.0));
}

TEST_CASE("MemoryReactor connectTCP defaults and kept connectors", "[testing][twisted]") {
  MemoryReactor mr;
  CF cf;
  {
    auto handle = mr.connectTCP("10.1.2.3", 80, cf);
    (void)handle;
  }
  // The handle is gone; the reactor still holds the connector, as Twisted's `connectors` list does.
  REQUIRE(mr.connectors.size() == 1);
  CHECK(mr.connectors[0]->getDestination() == Address{"TCP", "10.1.2.3", 80});
  REQUIRE(mr.tcpClients.size() == 1);
  CHECK(mr.tcpClients[0].timeout == 30);
  CHECK_FALSE(mr.tcpClients[0].bindAddress.has_value());
  // Nothing connects.
  CHECK(mr.connectors[0]->state() == "connecting");
  CHECK(mr.connectors[0]->connectCalls == 0);
}

TEST_CASE("MemoryReactor listenTCP on an IPv6 interface reports it as the host", "[testing][twisted]") {
  // Twisted: IPv6Address("TCP", interface, port) when isIPv6Address(interface).
  MemoryReactor mr;
  CF cf;
  auto v6 = mr.listenTCP(8081, cf, 7, "::1");
  REQUIRE(v6);
  CHECK(v6.value()->getHost() == Address{"TCP", "::1", 8081});
  auto v4 = mr.listenTCP(8082, cf, 50, "127.0.0.1");
  REQUIRE(v4);
  CHECK(v4.value()->getHost() == Address{"TCP", "0.0.0.0", 8082});
  REQUIRE(mr.tcpServers.size() == 2);
  CHECK(mr.tcpServers[0].backlog == 7);
  CHECK(mr.tcpServers[0].interface == "::1");
}

TEST_CASE("FakeConnector records stopConnecting disconnect and connect", "[testing]") {
  FakeConnector c(Address{"TCP", "h", 1});
  CHECK(c.state() == "connecting");
  REQUIRE(c.stopConnecting());
  CHECK(c.stoppedConnecting);
  CHECK(c.state() == "disconnected");
  REQUIRE(c.connect());
  CHECK(c.connectCalls == 1);
  CHECK(c.state() == "connecting");
  c.disconnect();
  CHECK(c.disconnected);
  CHECK(c.state() == "disconnected");
  // The retry engine sees the same connector.
  CHECK(c.engine().state() == connector_state::disconnected);
  REQUIRE(c.engine().connect());
  CHECK(c.connectCalls == 2);
  CHECK(c.engine().state() == connector_state::connecting);
}

TEST_CASE("FakePort stopListening", "[testing]") {
  FakePort p(Address{"TCP", "0.0.0.0", 9});
  CHECK_FALSE(p.stopped);
  p.stopListening();
  CHECK(p.stopped);
  p.stopListening();
  CHECK(p.stopped);
}
