// ReconnectingClientFactory on the testing kit: Twisted's ReconnectingFactoryTests
// (twisted/test/test_factories.py) with MemoryReactor, FakeConnector and Clock instead of sockets.
// Not applicable: test_serializeUnused, test_serializeWithClock and test_deserializationResetsParameters
// pickle the factory; C++ has no pickling, and the factory is not copyable.
//
// The factory's retries are timers on its clock, not callLater calls: Clock::getDelayedCalls() lists
// only the latter, so the count of everything scheduled is Clock::pending().
#include <catch2/catch.hpp>
#include <memory>
#include <torsion/protocol/reconnecting_client_factory.hpp>
#include <torsion/testing/clock.hpp>
#include <torsion/testing/memory_reactor.hpp>

using namespace torsion;
using namespace torsion::twisted;
using torsion::testing::Clock;
using torsion::testing::FakeConnector;
using torsion::testing::MemoryReactor;
using torsion::testing::MemoryReactorClock;

namespace {

const Address nowhere{"TCP", "127.0.0.1", 9};

}  // namespace

TEST_CASE("ReconnectingFactoryTests.test_stopTryingWhenConnected", "[protocols][twisted]") {
  // A connector that fails the test if the factory touches it (Twisted's raises RuntimeError).
  struct NoConnectConnector : FakeConnector {
    NoConnectConnector() : FakeConnector(nowhere) { state_ = "connected"; }
    result<void> stopConnecting() override {
      FAIL_CHECK("Shouldn't be called, we're connected.");
      return FakeConnector::stopConnecting();
    }
    result<void> connect() override {
      FAIL_CHECK("Shouldn't be reconnecting.");
      return FakeConnector::connect();
    }
  };
  Clock clock;
  ReconnectingClientFactory c;
  c.clock = &clock;
  c.protocol = [] { return std::make_unique<Protocol>(); };
  // Let's pretend we've connected:
  REQUIRE(c.buildProtocol(Address{}));
  // Now we stop trying, then disconnect:
  c.stopTrying();
  NoConnectConnector connector;
  c.clientConnectionLost(&connector, connectionDone);
  CHECK_FALSE(c.continueTrying);
  CHECK(clock.pending() == 0);
  clock.advance(3600);
  CHECK(connector.connectCalls == 0);
}

TEST_CASE("ReconnectingFactoryTests.test_stopTryingDoesNotReconnect", "[protocols][twisted]") {
  // stopConnecting behaves as an attempt that has now failed, and tells the factory.
  struct FactoryAwareFakeConnector : FakeConnector {
    ReconnectingClientFactory& f;
    bool attemptedRetry = false;
    explicit FactoryAwareFakeConnector(ReconnectingClientFactory& factory) : FakeConnector(nowhere), f(factory) {}
    result<void> stopConnecting() override {
      (void)FakeConnector::stopConnecting();
      f.clientConnectionFailed(this, Failure(errc::user_cancelled));
      return success();
    }
    result<void> connect() override {
      attemptedRetry = true;
      return FakeConnector::connect();
    }
  };
  Clock clock;
  ReconnectingClientFactory f;
  f.clock = &clock;
  FactoryAwareFakeConnector connector(f);
  // Twisted assigns f.connector; here the factory learns of the attempt as from a reactor, through
  // startedConnecting, so stopTrying can stop it (an attempt in flight: "connecting").
  f.startedConnecting(&connector);
  REQUIRE(f.connector == &connector);
  f.stopTrying();
  CHECK(connector.stoppedConnecting);
  CHECK_FALSE(connector.attemptedRetry);
  CHECK(clock.getDelayedCalls().empty());
  CHECK(clock.pending() == 0);
  clock.advance(3600);
  CHECK_FALSE(connector.attemptedRetry);
}

TEST_CASE("ReconnectingFactoryTests.test_parametrizedClock", "[protocols][twisted]") {
  Clock clock;
  ReconnectingClientFactory factory;
  factory.clock = &clock;
  FakeConnector connector(nowhere);
  factory.clientConnectionLost(&connector, connectionDone);
  CHECK(clock.pending() == 1);  // Twisted: len(clock.calls) == 1
  // The retry runs on that clock, after the first delay (about initialDelay * factor, jittered).
  clock.advance(factory.delay);
  CHECK(connector.connectCalls == 1);
  CHECK(clock.pending() == 0);
  factory.stopTrying();
}

TEST_CASE("ReconnectingClientFactory on a MemoryReactorClock retries through its FakeConnector", "[protocols]") {
  MemoryReactorClock reactor;
  ReconnectingClientFactory f;
  f.clock = &reactor;
  f.jitter = 0;
  auto handle = reactor.connectTCP("example.com", 1234, f);
  // startedConnecting ran synchronously with the reactor's FakeConnector.
  REQUIRE(reactor.connectors.size() == 1);
  FakeConnector& conn = *reactor.connectors[0];
  CHECK(f.connector != nullptr);
  CHECK(f.connector->getDestination() == Address{"TCP", "example.com", 1234});

  f.clientConnectionFailed(f.connector, Failure(errc::connection_refused));
  CHECK(reactor.pending() == 1);
  CHECK(f.delay == Approx(1.0 * 2.718281828459045));  // initialDelay * factor, no jitter
  reactor.advance(f.delay - 0.001);
  CHECK(conn.connectCalls == 0);
  reactor.advance(0.001);
  CHECK(conn.connectCalls == 1);

  // stopTrying aborts the attempt in flight (Torsion, spec §7.2 different-on-purpose 3).
  f.stopTrying();
  CHECK(conn.stoppedConnecting);
  CHECK(conn.state() == "disconnected");
  CHECK(reactor.pending() == 0);
}
