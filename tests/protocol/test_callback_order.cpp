// Twisted's callback orders (spec §1.4, scenarios A to N) over real loopback sockets, asserted as
// sequences. Each scenario runs a Reactor until the client side has finished.
#include <catch2/catch.hpp>
#include <string>
#include <torsion/protocol/reactor.hpp>
#include <torsion/protocol/tcp_transport.hpp>
#include <torsion/core/yield.hpp>
#include <sys/socket.h>
#include <vector>

#include "support/loopback.hpp"

using namespace torsion;
using namespace torsion::twisted;

namespace {

using trace_t = std::vector<std::string>;

std::string why(const Failure& f) { return error_code_name(f.code()); }

struct TraceProto : Protocol {
  trace_t* trace = nullptr;
  std::string side;
  std::function<void(TraceProto&)> on_made;
  void connectionMade() override {
    trace->push_back(side + " connectionMade connected=" + std::to_string(connected));
    if (on_made) on_made(*this);
  }
  void dataReceived(std::string_view d) override { trace->push_back(side + " dataReceived " + std::string(d)); }
  void connectionLost(const Failure& r) override { trace->push_back(side + " connectionLost " + why(r)); }
};

// buildProtocol of both trace factories: log it, then refuse or make a TraceProto for that side.
std::unique_ptr<Protocol> build_traced(Factory& f, const std::string& side, trace_t* trace, bool refuse,
                                       const std::function<void(TraceProto&)>& on_made) {
  trace->push_back(side + " buildProtocol" + (refuse ? " -> None" : ""));
  if (refuse) return nullptr;
  auto p = std::make_unique<TraceProto>();
  p->trace = trace;
  p->side = side;
  p->on_made = on_made;
  p->factory = &f;
  return p;
}

struct TraceServerFactory : ServerFactory {
  trace_t* trace;
  std::function<void(TraceProto&)> on_made;
  bool refuse = false;
  explicit TraceServerFactory(trace_t* t) : trace(t) {}
  std::unique_ptr<Protocol> buildProtocol(const Address&) override {
    return build_traced(*this, "server", trace, refuse, on_made);
  }
  void startFactory() override { trace->push_back("server startFactory"); }
  void stopFactory() override { trace->push_back("server stopFactory"); }
};

struct TraceClientFactory : ClientFactory {
  trace_t* trace;
  Reactor* reactor;
  std::function<void(TraceProto&)> on_made;
  std::function<void(IConnector*)> on_started, on_lost;
  bool refuse = false;
  bool done = false;
  TraceClientFactory(trace_t* t, Reactor* r) : trace(t), reactor(r) {}
  std::unique_ptr<Protocol> buildProtocol(const Address&) override {
    return build_traced(*this, "client", trace, refuse, on_made);
  }
  void startFactory() override { trace->push_back("client startFactory"); }
  void stopFactory() override {
    trace->push_back("client stopFactory");
    done = true;
    reactor->stop();
  }
  void startedConnecting(IConnector* c) override {
    trace->push_back("client startedConnecting state=" + c->state());
    if (on_started) on_started(c);
  }
  void clientConnectionFailed(IConnector* c, const Failure& r) override {
    trace->push_back("client clientConnectionFailed " + why(r) + " state=" + c->state());
  }
  void clientConnectionLost(IConnector* c, const Failure& r) override {
    trace->push_back("client clientConnectionLost " + why(r) + " state=" + c->state());
    if (on_lost) on_lost(c);
  }
};

std::uint16_t closed_port() {
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  return l.value().local_endpoint().value().port();
}

// The client's events in order, with the server's interleaved: only the client's are in a fixed
// order relative to each other, so the helper picks one side.
trace_t side(const trace_t& t, const std::string& s) {
  trace_t out;
  for (auto& e : t)
    if (e.rfind(s, 0) == 0) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("Twisted A - connectTCP to a closed port", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  TraceClientFactory cf(&trace, &reactor);
  auto c = reactor.connectTCP("127.0.0.1", closed_port(), cf);
  trace.push_back("client connectTCP returned state=" + c->state());
  reactor.run();
  CHECK(trace == trace_t{"client startFactory", "client startedConnecting state=connecting",
                         "client connectTCP returned state=connecting",
                         "client clientConnectionFailed connection_refused state=disconnected", "client stopFactory"});
}

TEST_CASE("Twisted B - server writes hello then loseConnection in connectionMade", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  TraceServerFactory sf(&trace);
  sf.on_made = [](TraceProto& p) {
    p.transport->write("hello");
    p.transport->loseConnection();
  };
  auto port = reactor.listenTCP(0, sf, 50, "127.0.0.1");
  REQUIRE(port);
  TraceClientFactory cf(&trace, &reactor);
  auto c = reactor.connectTCP("127.0.0.1", port.value()->getHost().port, cf);
  reactor.run();
  CHECK(side(trace, "client") == trace_t{"client startFactory", "client startedConnecting state=connecting",
                                         "client buildProtocol", "client connectionMade connected=1",
                                         "client dataReceived hello", "client connectionLost connection_done",
                                         "client clientConnectionLost connection_done state=disconnected",
                                         "client stopFactory"});
  CHECK(side(trace, "server") == trace_t{"server startFactory", "server buildProtocol",
                                         "server connectionMade connected=1", "server connectionLost connection_done"});
}

TEST_CASE("Twisted C - client calls loseConnection in connectionMade", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  TraceServerFactory sf(&trace);
  auto port = reactor.listenTCP(0, sf, 50, "127.0.0.1");
  REQUIRE(port);
  TraceClientFactory cf(&trace, &reactor);
  cf.on_made = [](TraceProto& p) { p.transport->loseConnection(); };
  auto c = reactor.connectTCP("127.0.0.1", port.value()->getHost().port, cf);
  reactor.run();
  CHECK(side(trace, "client") == trace_t{"client startFactory", "client startedConnecting state=connecting",
                                         "client buildProtocol", "client connectionMade connected=1",
                                         "client connectionLost connection_done",
                                         "client clientConnectionLost connection_done state=disconnected",
                                         "client stopFactory"});
}

TEST_CASE("Twisted D - server-side refusal looks like connected then a clean close", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  TraceServerFactory sf(&trace);
  sf.refuse = true;
  auto port = reactor.listenTCP(0, sf, 50, "127.0.0.1");
  REQUIRE(port);
  TraceClientFactory cf(&trace, &reactor);
  auto c = reactor.connectTCP("127.0.0.1", port.value()->getHost().port, cf);
  reactor.run();
  CHECK(side(trace, "client") == trace_t{"client startFactory", "client startedConnecting state=connecting",
                                         "client buildProtocol", "client connectionMade connected=1",
                                         "client connectionLost connection_done",
                                         "client clientConnectionLost connection_done state=disconnected",
                                         "client stopFactory"});
  CHECK(side(trace, "server") == trace_t{"server startFactory", "server buildProtocol -> None"});
}

TEST_CASE("Twisted E - client-side refusal is clientConnectionLost without protocol callbacks", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  TraceServerFactory sf(&trace);
  auto port = reactor.listenTCP(0, sf, 50, "127.0.0.1");
  REQUIRE(port);
  TraceClientFactory cf(&trace, &reactor);
  cf.refuse = true;
  auto c = reactor.connectTCP("127.0.0.1", port.value()->getHost().port, cf);
  reactor.run();
  CHECK(side(trace, "client") == trace_t{"client startFactory", "client startedConnecting state=connecting",
                                         "client buildProtocol -> None",
                                         "client clientConnectionLost connection_done state=disconnected",
                                         "client stopFactory"});
}

TEST_CASE("Twisted F - stopConnecting inside startedConnecting fails synchronously", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  TraceClientFactory cf(&trace, &reactor);
  cf.on_started = [&](IConnector* c) {
    REQUIRE(c->stopConnecting());
    trace.push_back("client stopConnecting returned state=" + c->state());
  };
  auto c = reactor.connectTCP("127.0.0.1", closed_port(), cf);
  CHECK(trace == trace_t{"client startFactory", "client startedConnecting state=connecting",
                         "client clientConnectionFailed user_cancelled state=disconnected", "client stopFactory",
                         "client stopConnecting returned state=disconnected"});
  // The aborted attempt finishes on the loop; let it, so nothing is left suspended at the end.
  px.run([]() -> task<void> {
    for (int i = 0; i < 5; ++i) (void)co_await yield();
  }());
}

TEST_CASE("Twisted I - connector state errors and disconnect while connected", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  TraceServerFactory sf(&trace);
  auto port = reactor.listenTCP(0, sf, 50, "127.0.0.1");
  REQUIRE(port);
  TraceClientFactory cf(&trace, &reactor);
  IConnector* conn = nullptr;
  cf.on_started = [&](IConnector* c) {
    CHECK(c->connect().error() == errc::invalid_state);  // "can't connect in this state"
  };
  cf.on_made = [&](TraceProto&) {
    CHECK(conn->connect().error() == errc::invalid_state);
    CHECK(conn->stopConnecting().error() == errc::not_connecting);
    CHECK(conn->getDestination() == Address{"TCP", "127.0.0.1", port.value()->getHost().port});
    conn->disconnect();
    trace.push_back("client disconnect returned state=" + conn->state());  // still connected: asynchronous
  };
  auto c = reactor.connectTCP("127.0.0.1", port.value()->getHost().port, cf);
  conn = c.get();
  reactor.run();
  CHECK(side(trace, "client") == trace_t{"client startFactory", "client startedConnecting state=connecting",
                                         "client buildProtocol", "client connectionMade connected=1",
                                         "client disconnect returned state=connected",
                                         "client connectionLost connection_done",
                                         "client clientConnectionLost connection_done state=disconnected",
                                         "client stopFactory"});
  CHECK(c->stopConnecting().error() == errc::not_connecting);
}

TEST_CASE("Twisted J - a plain ClientFactory reconnecting from clientConnectionLost does not churn", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  TraceServerFactory sf(&trace);
  sf.on_made = [](TraceProto& p) { p.transport->loseConnection(); };
  auto port = reactor.listenTCP(0, sf, 50, "127.0.0.1");
  REQUIRE(port);
  TraceClientFactory cf(&trace, &reactor);
  int lost = 0;
  cf.on_lost = [&](IConnector* c) {
    if (++lost == 1) REQUIRE(c->connect());
  };
  auto c = reactor.connectTCP("127.0.0.1", port.value()->getHost().port, cf);
  reactor.run();
  const trace_t client = side(trace, "client");
  CHECK(std::count(client.begin(), client.end(), "client startFactory") == 1);
  CHECK(std::count(client.begin(), client.end(), "client stopFactory") == 1);
  CHECK(std::count(client.begin(), client.end(), "client connectionMade connected=1") == 2);
  CHECK(client.back() == "client stopFactory");
}

TEST_CASE("Twisted N - numPorts counts listening ports and stopFactory runs on the last", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  TraceServerFactory sf(&trace);
  auto p1 = reactor.listenTCP(0, sf, 50, "127.0.0.1");
  auto p2 = reactor.listenTCP(0, sf, 50, "127.0.0.1");
  REQUIRE(p1);
  REQUIRE(p2);
  CHECK(sf.numPorts == 2);
  p1.value()->stopListening();
  CHECK(sf.numPorts == 2);  // the factory stops on a later loop turn
  reactor.callWhenRunning([&] { reactor.stop(); });
  px.run([]() -> task<void> { (void)co_await yield(); (void)co_await yield(); }());
  CHECK(sf.numPorts == 1);
  p2.value()->stopListening();
  px.run([]() -> task<void> { (void)co_await yield(); (void)co_await yield(); }());
  CHECK(sf.numPorts == 0);
  CHECK(trace == trace_t{"server startFactory", "server stopFactory"});
  CHECK(reactor.listenTCP(p1.value()->getHost().port, sf, 50, "127.0.0.1"));  // the port can be bound again
}

TEST_CASE("Twisted G - a connect timeout is clientConnectionFailed timed_out", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  // A listener with a full backlog drops SYNs.
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0), {.backlog = 0});
  REQUIRE(l);
  const endpoint ep = l.value().local_endpoint().value();
  const std::vector<int> fillers = torsion_test::fill_backlog(ep);
  TraceClientFactory cf(&trace, &reactor);
  const auto t0 = std::chrono::steady_clock::now();
  auto c = reactor.connectTCP("127.0.0.1", ep.port(), cf, 0.2);
  reactor.run();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  for (int fd : fillers) ::close(fd);
  CHECK(trace == trace_t{"client startFactory", "client startedConnecting state=connecting",
                         "client clientConnectionFailed timed_out state=disconnected", "client stopFactory"});
  CHECK(elapsed >= std::chrono::milliseconds(200));
  CHECK(elapsed < std::chrono::seconds(3));
}

TEST_CASE("Twisted H - a name that does not resolve is clientConnectionFailed dns_lookup_failed", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  TraceClientFactory cf(&trace, &reactor);
  auto c = reactor.connectTCP("nonexistent.invalid", 80, cf, 10);
  reactor.run();
  CHECK(trace == trace_t{"client startFactory", "client startedConnecting state=connecting",
                         "client clientConnectionFailed dns_lookup_failed state=disconnected", "client stopFactory"});
}

TEST_CASE("Twisted M - a bindAddress in use fails asynchronously with connect_bind_failed", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  auto taken = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  REQUIRE(taken);
  TraceClientFactory cf(&trace, &reactor);
  auto c = reactor.connectTCP("127.0.0.1", closed_port(), cf, 30,
                              std::pair<std::string, std::uint16_t>{"127.0.0.1", taken.value().local_endpoint().value().port()});
  trace.push_back("client connectTCP returned");
  reactor.run();
  CHECK(trace == trace_t{"client startFactory", "client startedConnecting state=connecting", "client connectTCP returned",
                         "client clientConnectionFailed connect_bind_failed state=disconnected", "client stopFactory"});
  // And listenTCP on a port in use is an error at once (Twisted raises CannotListenError).
  TraceServerFactory sf(&trace);
  auto busy = reactor.listenTCP(taken.value().local_endpoint().value().port(), sf, 50, "127.0.0.1");
  REQUIRE_FALSE(busy);
  CHECK(busy.error() == std::errc::address_in_use);
  CHECK(sf.numPorts == 0);  // doStart only after a successful listen
}

TEST_CASE("an exception in a server connectionMade aborts that connection (Torsion decision 7.2 item 2)", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  TraceServerFactory sf(&trace);
  sf.on_made = [](TraceProto&) { throw std::runtime_error("boom in server connectionMade"); };
  auto port = reactor.listenTCP(0, sf, 50, "127.0.0.1");
  REQUIRE(port);
  TraceClientFactory cf(&trace, &reactor);
  auto c = reactor.connectTCP("127.0.0.1", port.value()->getHost().port, cf);
  reactor.run();
  CHECK(side(trace, "server") == trace_t{"server startFactory", "server buildProtocol", "server connectionMade connected=1",
                                         "server connectionLost application_error"});
  // The client sees the reset of an aborted connection.
  const trace_t client = side(trace, "client");
  CHECK(std::find(client.begin(), client.end(), "client connectionLost connection_lost") != client.end());
}

TEST_CASE("Twisted D2 - server refusal while the client writes in connectionMade is still a clean close", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  trace_t trace;
  TraceServerFactory sf(&trace);
  sf.refuse = true;
  auto port = reactor.listenTCP(0, sf, 50, "127.0.0.1");
  REQUIRE(port);
  TraceClientFactory cf(&trace, &reactor);
  cf.on_made = [](TraceProto& p) { p.transport->write(std::string(1000, 'x')); };
  auto c = reactor.connectTCP("127.0.0.1", port.value()->getHost().port, cf);
  reactor.run();
  const trace_t client = side(trace, "client");
  REQUIRE(client.size() == 7);
  CHECK(client[3] == "client connectionMade connected=1");
  // The spec saw ConnectionDone; an RST race is possible in theory when unread data is discarded.
  CHECK((client[4] == "client connectionLost connection_done" || client[4] == "client connectionLost connection_lost"));
  CHECK(client.back() == "client stopFactory");
}
