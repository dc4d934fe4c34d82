// Using the callback API the wrong way gives an error value or a documented no-op, never undefined
// behaviour: stopListening twice, connecting in the wrong state, stopConnecting when not
// connecting, closing twice, writing after connectionLost, stopping the reactor twice, negative
// delays.
#include <catch2/catch.hpp>
#include <torsion/protocol/looping_call.hpp>
#include <torsion/protocol/reactor.hpp>
#include <torsion/torsion.hpp>

#include "support/proc_stats.hpp"
#include "support/thrown_code.hpp"

using namespace torsion;
using namespace torsion::twisted;

namespace {

struct counting_factory : ServerFactory {
  int starts = 0, stops = 0;
  void startFactory() override { ++starts; }
  void stopFactory() override { ++stops; }
};

// Writes, closes, then misuses the transport. As in Twisted, a write after loseConnection but
// before the close is still sent; closing again does nothing; after connectionLost every call is
// ignored. connectionLost comes once.
// What it saw, kept by the test: the protocol goes away with its transport.
struct losses {
  int count = 0;
  Failure reason;
};

struct closes_then_misbehaves : Protocol {
  losses* lost = nullptr;
  void connectionMade() override {
    transport->write("before");
    transport->loseConnection();
    transport->write("+after");  // still sent: the close flushes it
    transport->loseConnection();
    transport->loseWriteConnection();
    transport->resumeProducing();
  }
  void connectionLost(const Failure& why) override {
    ++lost->count;
    lost->reason = why;
    transport->write("after the end");  // ignored
    transport->loseConnection();
    transport->abortConnection();
  }
};

struct client_counts : ClientFactory {
  Reactor* reactor = nullptr;
  int failed = 0, lost = 0;
  void clientConnectionFailed(IConnector*, const Failure&) override {
    ++failed;
    reactor->stop();
  }
  void clientConnectionLost(IConnector*, const Failure&) override { ++lost; }
};

}  // namespace

TEST_CASE("a Reactor made on a thread with no proactor is invalid_state - not a null dereference", "[protocol]") {
  REQUIRE(proactor::current() == nullptr);
  CHECK(torsion_test::thrown_code([] { Reactor r; }) == errc::invalid_state);
}

TEST_CASE("stopListening twice - the second does nothing and the factory stops once", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  counting_factory f;
  auto port = reactor.listenTCP(0, f, 50, "127.0.0.1");
  REQUIRE(port);
  port.value()->stopListening();
  port.value()->stopListening();
  reactor.callLater(0.01, [&] { reactor.stop(); });
  reactor.run(false);
  port.value()->stopListening();  // and once more after the reactor stopped
  port.value().reset();
  CHECK(f.starts == 1);
  CHECK(f.stops == 1);
}

TEST_CASE("closing twice and writing after connectionLost are ignored - connectionLost comes once and clean",
          "[protocol]") {
  proactor px;
  Reactor reactor(px);
  losses lost;
  ServerFactory f;
  f.protocol = [&] {
    auto p = std::make_unique<closes_then_misbehaves>();
    p->lost = &lost;
    return p;
  };
  auto port = reactor.listenTCP(0, f, 50, "127.0.0.1");
  REQUIRE(port);
  const auto where = endpoint(ip_address::loopback_v4(), static_cast<std::uint16_t>(port.value()->getHost().port));
  std::string received;
  reactor.tasks().spawn([](endpoint where, std::string& received, Reactor& reactor) -> task<void> {
    auto s = co_await connect(where);
    REQUIRE(s);
    std::array<char, 64> buf{};
    for (;;) {
      auto n = co_await s.value().read_some(std::as_writable_bytes(std::span(buf)));
      if (!n || n.value() == 0) break;
      received.append(buf.data(), n.value());
    }
    reactor.callLater(0.01, [&reactor] { reactor.stop(); });
  }(where, received, reactor));
  reactor.run(false);
  CHECK(received == "before+after");
  CHECK(lost.count == 1);
  CHECK(lost.reason.is_clean());
}

TEST_CASE("connecting in the wrong state and stopConnecting when not connecting are errors - disconnect is a no-op",
          "[protocol]") {
  proactor px;
  Reactor reactor(px);
  client_counts f;
  f.reactor = &reactor;
  // A port nobody listens on: the attempt fails (refused) and the connector is disconnected again.
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  REQUIRE(l);
  const auto port = l.value().local_endpoint().value().port();
  l.value().close();
  auto c = reactor.connectTCP("127.0.0.1", port, f, 5);
  CHECK(c->state() == "connecting");
  CHECK(c->connect().error() == errc::invalid_state);           // "can't connect in this state"
  auto bound = reactor.callLater(10, [&] { reactor.stop(); });  // should the failure never come
  reactor.run(false);
  (void)bound->cancel();
  CHECK(f.failed == 1);
  CHECK(c->state() == "disconnected");
  CHECK(c->stopConnecting().error() == errc::not_connecting);
  c->disconnect();  // nothing to disconnect
  CHECK(c->state() == "disconnected");
  CHECK(f.failed == 1);
  CHECK(f.lost == 0);
}

TEST_CASE("stopping the reactor twice - and negative delays - are harmless", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  int ran = 0;
  auto call = reactor.callLater(-5, [&] { ++ran; });  // clamped to now (Twisted asserts)
  reactor.callLater(0, [&] {
    reactor.stop();
    reactor.stop();
  });
  reactor.run(false);
  reactor.stop();  // not running: nothing happens
  CHECK(ran == 1);
  CHECK_FALSE(call->active());
  LoopingCall loop([] {});
  loop.clock = &reactor.clock();
  auto started = loop.start(-1);
  REQUIRE_FALSE(started);
  CHECK(started.error() == std::errc::invalid_argument);
  CHECK_FALSE(loop.running);
}
