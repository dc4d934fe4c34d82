// Faults a peer inflicts on the callback layer's TCP transport: a reset in the middle of a message,
// a half-close after which the peer keeps reading, a close while the protocol streams 8 MiB. The
// protocol must hear the right reason in connectionLost (once), every byte sent before the fault
// must be accounted for, and no descriptor may be left behind.
#include <catch2/catch.hpp>
#include <string>
#include <torsion/core/yield.hpp>
#include <torsion/io/ops.hpp>
#include <torsion/net/connect.hpp>
#include <torsion/protocol/reactor.hpp>
#include <torsion/protocol/tcp_transport.hpp>
#include <torsion/time/sleep.hpp>
#include <vector>

#include "support/proc_stats.hpp"
#include "support/read_to_end.hpp"
#include "support/settle.hpp"

using namespace torsion;
using namespace torsion::twisted;
using namespace std::chrono_literals;

namespace {

char pattern_at(std::size_t i) { return static_cast<char>('a' + (i * 7 + i / 251) % 26); }

std::string pattern(std::size_t from, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = pattern_at(from + i);
  return s;
}

bool is_pattern(std::string_view got, std::size_t from = 0) {
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != pattern_at(from + i)) return false;
  return true;
}

// What the server-side protocol saw; owned by the test (the protocol dies with its transport).
struct seen {
  std::string received;
  std::vector<Failure> lost;
  std::vector<std::string> events;
  std::size_t written = 0;  // bytes the protocol passed to transport.write
  tcp_transport* transport = nullptr;
};

// A protocol whose behaviour each test supplies; it records what happened into `seen`.
struct Probe : Protocol, IHalfCloseableProtocol, IProducer {
  seen* s = nullptr;
  std::function<void(Probe&)> on_made, on_read_lost;
  std::size_t stream_total = 0;  // > 0: stream that many bytes as a push producer
  bool paused = false;

  void connectionMade() override {
    s->transport = static_cast<tcp_transport*>(transport);
    if (stream_total) {
      REQUIRE(transport->registerProducer(this, true));
      pump();
    }
    if (on_made) on_made(*this);
  }
  void dataReceived(std::string_view d) override { s->received.append(d); }
  void readConnectionLost() override {
    s->events.push_back("readConnectionLost");
    if (on_read_lost) on_read_lost(*this);
  }
  void writeConnectionLost() override { s->events.push_back("writeConnectionLost"); }
  void connectionLost(const Failure& why) override {
    s->lost.push_back(why);
    s->transport = nullptr;
  }
  void send(std::string_view d) {
    transport->write(d);
    s->written += d.size();
  }
  // Write 16 KiB pieces until paused or done, as a file-sending producer does.
  void pump() {
    while (!paused && s->written < stream_total)
      send(pattern(s->written, std::min<std::size_t>(16384, stream_total - s->written)));
  }
  void pauseProducing() override { paused = true; }
  void resumeProducing() override {
    paused = false;
    pump();
  }
  void stopProducing() override { s->events.push_back("stopProducing"); }
};

struct ProbeFactory : ServerFactory {
  seen s;
  std::function<void(Probe&)> configure;
  std::unique_ptr<Protocol> buildProtocol(const Address&) override {
    auto p = std::make_unique<Probe>();
    p->s = &s;
    p->factory = this;
    if (configure) configure(*p);
    return p;
  }
};

struct fixture {
  proactor px;
  ProbeFactory factory;  // before the reactor: its shutdown still calls the protocol
  Reactor reactor{px};
  std::unique_ptr<IListeningPort> port;
  int fds_listening = 0;
  fixture() {
    port = std::move(reactor.listenTCP(0, factory, 50, "127.0.0.1")).value();
    fds_listening = torsion_test::open_fd_count();
  }
  std::uint16_t port_number() const { return port->getHost().port; }
  endpoint where() const { return endpoint(ip_address::loopback_v4(), port_number()); }
};

task<void> until_lost(seen& s) {
  while (s.lost.empty()) (void)co_await yield();
  for (int i = 0; i < 5; ++i) (void)co_await yield();  // room for a second connectionLost, were there one
}

using torsion_test::read_to_end;

}  // namespace

TEST_CASE(
    "transport - a peer resets in the middle of a message - connectionLost connection_lost ECONNRESET after every byte",
    "[protocol][faults]") {
  fixture f;
  const std::size_t half = 1500;
  f.px.run([](endpoint where, std::size_t half, seen& s) -> task<void> {
    auto c = co_await connect(where);
    REQUIRE(c);
    const std::string msg = pattern(0, half);
    auto w = co_await c.value().write_all(std::as_bytes(std::span(msg)));
    REQUIRE(w);
    // Let the bytes reach the protocol's side of the kernel before the reset follows them.
    while (s.transport == nullptr) (void)co_await yield();
    REQUIRE(c.value().abort());
    co_await until_lost(s);
  }(f.where(), half, f.factory.s));
  CHECK(f.factory.s.received.size() == half);
  CHECK(is_pattern(f.factory.s.received));
  REQUIRE(f.factory.s.lost.size() == 1);
  CHECK(f.factory.s.lost[0].check(errc::connection_lost));
  CHECK(f.factory.s.lost[0].osError() == ECONNRESET);
  CHECK(torsion_test::open_fd_count() == f.fds_listening);
}

TEST_CASE(
    "transport - a peer half-closes and keeps reading - the protocol gets the whole request and the peer the whole "
    "reply",
    "[protocol][faults]") {
  fixture f;
  constexpr std::size_t request = 1 << 20, reply = 3 << 20;
  f.factory.configure = [](Probe& p) {
    p.on_read_lost = [](Probe& p) {
      p.send(pattern(0, reply));
      p.transport->loseConnection();
    };
  };
  auto [got, how] = f.px.run([](endpoint where) -> task<std::pair<std::string, std::error_code>> {
    auto c = co_await connect(where);
    REQUIRE(c);
    const std::string msg = pattern(0, request);
    auto w = co_await c.value().write_all(std::as_bytes(std::span(msg)));
    REQUIRE(w);
    REQUIRE(c.value().shutdown_write());
    co_return co_await read_to_end(c.value());
  }(f.where()));
  f.px.run(until_lost(f.factory.s));
  CHECK(f.factory.s.received.size() == request);
  CHECK(is_pattern(f.factory.s.received));
  CHECK_FALSE(how);
  CHECK(got.size() == reply);
  CHECK(is_pattern(got));
  CHECK(f.factory.s.events == std::vector<std::string>{"readConnectionLost"});
  REQUIRE(f.factory.s.lost.size() == 1);
  CHECK(f.factory.s.lost[0].is_clean());
  CHECK(torsion_test::open_fd_count() == f.fds_listening);
}

TEST_CASE(
    "transport - a peer closes while the protocol streams 8 MiB - connection_lost - every byte written is accounted "
    "for",
    "[protocol][faults]") {
  fixture f;
  constexpr std::size_t total = 8 << 20;
  f.factory.configure = [](Probe& p) { p.stream_total = total; };
  struct snapshot {
    std::size_t read = 0;
    bool in_order = false;
    std::size_t written = 0, buffered = 0;
    long peer_unread = -1, unacked = -1;
  };
  auto snap = f.px.run([](endpoint where, seen& s) -> task<snapshot> {
    snapshot snap;
    auto c = co_await connect(where);
    REQUIRE(c);
    std::string head(256 << 10, '\0');
    auto r = co_await c.value().read_exactly(std::as_writable_bytes(std::span(head)));
    REQUIRE(r);
    snap.read = head.size();
    snap.in_order = is_pattern(head);
    // The client stops reading: the kernel buffers fill, the transport pauses the producer. Wait
    // until no byte moves any more, then look at every queue the bytes can be in.
    const int server_fd = torsion_test::find_socket(where, c.value().local_endpoint().value()).value();
    const int client_fd = c.value().native_handle();
    auto sample = [&] {
      return std::tuple{s.written, s.transport ? s.transport->buffered() : 0, torsion_test::socket_outq(server_fd),
                        torsion_test::socket_inq(client_fd)};
    };
    auto settled = co_await torsion_test::until_settled(sample);
    REQUIRE(settled);
    snap.written = s.written;
    REQUIRE(s.transport);
    snap.buffered = s.transport->buffered();
    snap.unacked = torsion_test::socket_outq(server_fd);
    snap.peer_unread = torsion_test::socket_inq(client_fd);
    REQUIRE(c.value().close());  // unread data: the kernel resets the connection
    co_await until_lost(s);
    co_return snap;
  }(f.where(), f.factory.s));
  CHECK(snap.in_order);
  CHECK(snap.written < total);  // the producer was paused, not run to the end
  // Never more buffered than the high-water mark plus the piece that crossed it.
  CHECK(snap.buffered <= 65536 + 16384);
  // Every byte the protocol wrote is read by the peer, in the peer's receive queue, unacknowledged
  // in the server's send queue (received-but-unacknowledged bytes count in both), or still in the
  // transport's buffer: none vanished, none appeared from nowhere.
  INFO("read " << snap.read << " unread " << snap.peer_unread << " unacked " << snap.unacked << " buffered "
               << snap.buffered << " written " << snap.written);
  const std::size_t at_peer = snap.read + static_cast<std::size_t>(snap.peer_unread);
  CHECK(at_peer <= snap.written);
  CHECK(snap.written <= at_peer + static_cast<std::size_t>(snap.unacked) + snap.buffered);
  REQUIRE(f.factory.s.lost.size() == 1);
  CHECK(f.factory.s.lost[0].check(errc::connection_lost));
  CHECK((f.factory.s.lost[0].osError() == ECONNRESET || f.factory.s.lost[0].osError() == EPIPE));
  CHECK(f.factory.s.events == std::vector<std::string>{"stopProducing"});  // the producer heard of it
  CHECK(torsion_test::open_fd_count() == f.fds_listening);
}
