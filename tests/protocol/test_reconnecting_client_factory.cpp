#include <catch2/catch.hpp>
#include <string>
#include <torsion/connect/reconnecting_client.hpp>
#include <torsion/io/ops.hpp>
#include <torsion/protocol/reactor.hpp>
#include <torsion/protocol/reconnecting_client_factory.hpp>
#include <torsion/time/virtual_clock.hpp>
#include <type_traits>
#include <vector>

using namespace torsion;
using namespace torsion::twisted;

namespace {

std::uint16_t closed_port() {
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  return l.value().local_endpoint().value().port();
}

struct TracingRCF : ReconnectingClientFactory {
  std::vector<std::string> trace;
  std::vector<double> delays;  // the delay after each failure, as Twisted's factory.delay
  bool gave_up = false;
  void startFactory() override { trace.push_back("startFactory"); }
  void stopFactory() override { trace.push_back("stopFactory"); }
  void startedConnecting(IConnector* c) override {
    trace.push_back("startedConnecting");
    ReconnectingClientFactory::startedConnecting(c);
  }
  void clientConnectionFailed(IConnector* c, const Failure& r) override {
    trace.push_back("clientConnectionFailed " + error_code_name(r.code()));
    const unsigned before = retries;
    ReconnectingClientFactory::clientConnectionFailed(c, r);
    if (engine().retry_pending()) delays.push_back(delay);
    else if (retries > before) gave_up = true;
  }
};

// Turn the loop, jumping the virtual clock to each pending retry, until the factory gives up.
task<void> drive(TracingRCF& f, virtual_clock& clk) {
  for (int i = 0; i < 100000 && !f.gave_up; ++i) {
    if (f.engine().retry_pending()) clk.advance(*f.engine().pending_at() - clk.now());
    (void)co_await nop();
  }
}

}  // namespace

TEST_CASE("Twisted K - RCF against a closed port stops and starts the factory around every retry", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  virtual_clock clk;
  python_random rng(1);
  TracingRCF f;
  f.clock = &clk;
  f.rng = &rng;
  f.initialDelay = f.delay = 0.01;
  f.jitter = 0;
  f.maxRetries = 3;
  auto c = reactor.connectTCP("127.0.0.1", closed_port(), f);
  px.run(drive(f, clk));
  const std::vector<std::string> round = {"startFactory", "startedConnecting", "clientConnectionFailed connection_refused",
                                          "stopFactory"};
  std::vector<std::string> expected;
  for (int i = 0; i < 4; ++i) expected.insert(expected.end(), round.begin(), round.end());
  CHECK(f.trace == expected);
  // Twisted's own numbers for this scenario (02 K): 0.027182818284590453, 0.0738905609893065, ...
  REQUIRE(f.delays.size() == 3);
  CHECK(f.delays[0] == Approx(0.027182818284590453).epsilon(1e-12));
  CHECK(f.delays[1] == Approx(0.0738905609893065).epsilon(1e-12));
  CHECK(f.delays[2] == Approx(0.20085536923187668).epsilon(1e-12));
  CHECK(f.retries == 4);
  CHECK(f.continueTrying);
}

TEST_CASE("RCF defaults are Twisted's", "[protocol]") {
  ReconnectingClientFactory f;
  CHECK(f.maxDelay == 3600);
  CHECK(f.initialDelay == 1.0);
  CHECK(f.factor == 2.7182818284590451);
  CHECK(f.jitter == 0.119626565582);
  CHECK(f.delay == 1.0);
  CHECK(f.retries == 0);
  CHECK_FALSE(f.maxRetries.has_value());
  CHECK(f.continueTrying);
  CHECK(f.retry().error() == errc::invalid_state);  // Twisted: ValueError("no connector to retry")
}

TEST_CASE("test_parametrizedClock - a loss with an injected clock schedules exactly one call", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  virtual_clock clk;
  ReconnectingClientFactory f;
  f.clock = &clk;
  Connector conn(reactor, "127.0.0.1", closed_port(), f, {});
  f.clientConnectionLost(&conn, connectionDone);
  CHECK(clk.pending() == 1);
}

TEST_CASE("test_stopTryingWhenConnected - no reconnect and no stopConnecting after stopTrying", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  virtual_clock clk;
  ReconnectingClientFactory f;
  f.clock = &clk;
  Connector conn(reactor, "127.0.0.1", closed_port(), f, {});
  f.stopTrying();
  CHECK_FALSE(f.continueTrying);
  f.clientConnectionLost(&conn, connectionDone);
  CHECK(clk.pending() == 0);
  CHECK(conn.state() == "disconnected");
}

TEST_CASE("test_stopTryingDoesNotReconnect - stopTrying during an attempt schedules nothing", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  virtual_clock clk;
  TracingRCF f;
  f.clock = &clk;
  auto c = reactor.connectTCP("127.0.0.1", closed_port(), f);
  REQUIRE(c->state() == "connecting");
  f.stopTrying();  // the first attempt is aborted at once (Torsion, spec §7.2 item 3)
  CHECK(c->state() == "disconnected");
  CHECK(clk.pending() == 0);
  CHECK(f.trace == std::vector<std::string>{"startFactory", "startedConnecting", "clientConnectionFailed user_cancelled",
                                            "stopFactory"});
  // The aborted attempt finishes on the loop; let it, so nothing is left suspended at the end.
  px.run([]() -> task<void> {
    for (int i = 0; i < 5; ++i) (void)co_await nop();
  }());
}

TEST_CASE("both styles go through one engine and see the same delays", "[protocol]") {
  static_assert(std::is_same_v<decltype(std::declval<ReconnectingClientFactory&>().engine()),
                               decltype(std::declval<reconnecting_client&>().engine())>);
  proactor px;
  Reactor reactor(px);
  const std::uint16_t port = closed_port();

  // Callback style.
  virtual_clock clk1;
  python_random rng1(7);
  TracingRCF f;
  f.clock = &clk1;
  f.rng = &rng1;
  f.maxRetries = 6;
  auto c = reactor.connectTCP("127.0.0.1", port, f);
  px.run(drive(f, clk1));

  // Coroutine style, same policy settings, same seed.
  virtual_clock clk2;
  python_random rng2(7);
  auto policy = std::make_unique<twisted_backoff>();
  policy->max_retries = 6;
  std::vector<double> coro_delays;
  reconnecting_client client({.host = "127.0.0.1",
                              .port = port,
                              .policy = std::move(policy),
                              .clock = &clk2,
                              .rng = &rng2,
                              .on_event = [&](const connector_event& e) {
                                if (e.kind == connector_event_kind::retry)
                                  coro_delays.push_back(std::chrono::duration<double>(*e.delay).count());
                              }});
  auto r = px.run([](reconnecting_client& client, virtual_clock& clk) -> task<result<void>> {
    task_group g;
    result<void> out = success();
    bool finished = false;
    g.spawn([](reconnecting_client& c, result<void>& out, bool& finished) -> task<void> {
      out = co_await c.run([](tcp_stream&) -> task<result<void>> { co_return success(); });
      finished = true;
    }(client, out, finished));
    for (int i = 0; i < 100000 && !finished; ++i) {
      if (client.engine().retry_pending()) clk.advance(*client.engine().pending_at() - clk.now());
      (void)co_await nop();
    }
    co_await g.join();
    co_return out;
  }(client, clk2));
  CHECK_FALSE(r);
  REQUIRE(f.delays.size() == 6);
  REQUIRE(coro_delays.size() == 6);
  for (std::size_t i = 0; i < 6; ++i) CHECK(coro_delays[i] == Approx(f.delays[i]).epsilon(1e-9));
}

TEST_CASE("Twisted L - RCF against a server that drops each connection with resetDelay in buildProtocol", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  virtual_clock clk;
  python_random rng(1);
  struct DropServer : ServerFactory {
    std::unique_ptr<Protocol> buildProtocol(const Address&) override {
      struct Dropper : Protocol {
        void connectionMade() override { transport->loseConnection(); }
      };
      return std::make_unique<Dropper>();
    }
  } server;
  auto port = reactor.listenTCP(0, server, 50, "127.0.0.1");
  REQUIRE(port);
  struct Resetting : TracingRCF {
    int connections = 0;
    std::unique_ptr<Protocol> buildProtocol(const Address& a) override {
      trace.push_back("buildProtocol -> resetDelay() retries was " + std::to_string(retries));
      resetDelay();
      ++connections;
      return ReconnectingClientFactory::buildProtocol(a);
    }
    void clientConnectionLost(IConnector* c, const Failure& r) override {
      trace.push_back("clientConnectionLost " + error_code_name(r.code()));
      ReconnectingClientFactory::clientConnectionLost(c, r);
      if (engine().retry_pending()) delays.push_back(delay);
    }
  } f;
  f.protocol = [] { return std::make_unique<Protocol>(); };
  f.clock = &clk;
  f.rng = &rng;
  f.initialDelay = f.delay = 0.01;
  f.jitter = 0;
  auto c = reactor.connectTCP("127.0.0.1", port.value()->getHost().port, f);
  px.run([](Resetting& f, virtual_clock& clk) -> task<void> {
    for (int i = 0; i < 100000 && f.connections < 3; ++i) {
      if (f.engine().retry_pending()) clk.advance(*f.engine().pending_at() - clk.now());
      (void)co_await nop();
    }
    f.stopTrying();
    for (int i = 0; i < 10; ++i) (void)co_await nop();
  }(f, clk));
  CHECK(f.connections == 3);
  // Every retry waits initialDelay * factor: resetDelay() restarted the sequence each time.
  REQUIRE(f.delays.size() >= 2);
  for (double d : f.delays) CHECK(d == Approx(0.027182818284590453).epsilon(1e-12));
  // The factory is stopped and started around every retry, as in Twisted's log.
  CHECK(std::count(f.trace.begin(), f.trace.end(), "startFactory") >= 3);
  CHECK(std::count(f.trace.begin(), f.trace.end(), "buildProtocol -> resetDelay() retries was 1") >= 2);
}
