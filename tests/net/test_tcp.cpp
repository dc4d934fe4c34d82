#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <numeric>
#include <torsion/torsion.hpp>
#include <vector>

#include "support/loopback.hpp"

using namespace torsion;
using namespace std::chrono_literals;

namespace {

std::vector<std::byte> pattern(std::size_t n, unsigned seed = 7) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<unsigned char>(i * 131 + seed + (i >> 8)));
  return v;
}

task<void> echo_once_per_connection(tcp_listener& l, int connections) {
  for (int c = 0; c < connections; ++c) {
    auto s = co_await l.accept();
    REQUIRE(s);
    std::array<std::byte, 4096> buf;
    for (;;) {
      auto n = co_await s.value().read_some(buf);
      if (!n || n.value() == 0) break;
      {
        auto awaited = co_await s.value().write_all(std::span(buf.data(), n.value()));
        REQUIRE(awaited);
      }
    }
  }
}

result<tcp_listener> listen_loopback(bool v6 = false, listen_options o = {}) {
  return tcp_listener::listen(endpoint(v6 ? ip_address::loopback_v6() : ip_address::loopback_v4(), 0), o);
}

}  // namespace

TEST_CASE("echo over loopback - IPv4 and IPv6 - multishot and single-shot accept", "[net]") {
  const bool v6 = GENERATE(false, true);
  const bool multishot = GENERATE(true, false);
  INFO("v6=" << v6 << " multishot=" << multishot);
  proactor px;
  px.run([](bool v6, bool multishot) -> task<void> {
    auto l = listen_loopback(v6, {.multishot = multishot});
    REQUIRE(l);
    const endpoint where = l.value().local_endpoint().value();
    CHECK(where.address() == (v6 ? ip_address::loopback_v6() : ip_address::loopback_v4()));
    CHECK(where.port() != 0);
    task_group g;
    g.spawn(echo_once_per_connection(l.value(), 3));
    for (int c = 0; c < 3; ++c) {
      auto s = co_await connect(where);
      REQUIRE(s);
      CHECK(s.value().peer_endpoint().value() == where);
      const auto out = pattern(10000, c);
      std::vector<std::byte> in(out.size());
      {
        auto awaited = co_await s.value().write_all(out);
        REQUIRE(awaited);
      }
      {
        auto awaited = co_await s.value().read_exactly(in);
        REQUIRE(awaited);
      }
      CHECK(in == out);
      REQUIRE(s.value().shutdown_write());
      std::array<std::byte, 8> tail;
      auto end = co_await s.value().read_some(tail);
      REQUIRE(end);
      CHECK(end.value() == 0);  // server saw our FIN and closed: end of stream
    }
    co_await g.join();
  }(v6, multishot));
}

TEST_CASE("8 MiB written at once arrives intact - and vectored writes keep order", "[net]") {
  proactor px;
  px.run([]() -> task<void> {
    auto l = listen_loopback();
    REQUIRE(l);
    auto client = co_await connect(l.value().local_endpoint().value());
    REQUIRE(client);
    auto server = co_await l.value().accept();
    REQUIRE(server);

    const auto big = pattern(8 << 20);
    std::vector<std::byte> got(big.size());
    auto [w, r] = co_await when_all(client.value().write_all(big), server.value().read_exactly(got));
    REQUIRE(w);
    REQUIRE(r);
    CHECK(got == big);

    // 40 small buffers (more than one sendmsg carries) in one vectored write.
    std::vector<std::vector<std::byte>> parts;
    std::vector<iovec> iov;
    std::vector<std::byte> expected;
    for (int i = 0; i < 40; ++i) {
      parts.push_back(pattern(100 + i * 37, i));
      expected.insert(expected.end(), parts.back().begin(), parts.back().end());
    }
    for (auto& p : parts) iov.push_back({p.data(), p.size()});
    std::vector<std::byte> got2(expected.size());
    auto [w2, r2] = co_await when_all(client.value().write_all(std::span<const iovec>(iov)),
                                      server.value().read_exactly(got2));
    REQUIRE(w2);
    REQUIRE(r2);
    CHECK(got2 == expected);
  }());
}

TEST_CASE("connecting to a closed port is connection_refused", "[net]") {
  proactor px;
  // Bind a port and close it without listening: nothing is there now.
  auto l = listen_loopback();
  REQUIRE(l);
  const endpoint dead = l.value().local_endpoint().value();
  l.value().close();
  auto r = px.run([](endpoint ep) -> task<result<tcp_stream>> { co_return co_await connect(ep); }(dead));
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::connection_refused);
  CHECK(r.error() == std::errc::connection_refused);
  CHECK_FALSE(r.error().message().empty());
}

TEST_CASE("host names resolve off the loop - unknown names are dns_lookup_failed", "[net][threaded]") {
  proactor px;
  px.run([]() -> task<void> {
    auto l = listen_loopback();
    REQUIRE(l);
    const std::uint16_t port = l.value().local_endpoint().value().port();
    auto ok = co_await connect("localhost", port);
    REQUIRE(ok);
    CHECK(ok.value().peer_endpoint().value().address().is_loopback());

    auto bad = co_await connect("nonexistent.invalid", port);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == errc::dns_lookup_failed);

    auto addrs = co_await resolve("127.0.0.1");
    REQUIRE(addrs);
    CHECK(addrs.value() == std::vector<ip_address>{ip_address::loopback_v4()});
  }());
}

TEST_CASE("malformed addresses and ports are errors - not crashes", "[net]") {
  CHECK(endpoint::parse("1.2.3.4:99999").error() == errc::invalid_port);
  CHECK(endpoint::parse("300.1.1.1:80").error() == errc::invalid_address);
  CHECK(port_from_int(-1).error() == errc::invalid_port);
  CHECK(port_from_int(65536).error() == errc::invalid_port);
  proactor px;
  auto r = px.run([]() -> task<result<tcp_stream>> { co_return co_await connect("", 80); }());
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::dns_lookup_failed);
}

TEST_CASE("a connection attempt that is never answered ends in timed_out", "[net]") {
  proactor px;
  // A listener with backlog 0 that never accepts: once its queue is full, SYNs are dropped.
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0), {.backlog = 0});
  REQUIRE(l);
  const endpoint ep = l.value().local_endpoint().value();
  const std::vector<int> held = torsion_test::fill_backlog(ep);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = px.run([](endpoint ep) -> task<result<tcp_stream>> {
    co_return co_await connect(ep, {.timeout = 200ms});
  }(ep));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  for (int fd : held) ::close(fd);
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::timed_out);
  CHECK(elapsed >= 200ms);
  CHECK(elapsed < 3s);
}

TEST_CASE("a bind address that is taken is connect_bind_failed", "[net]") {
  proactor px;
  auto l = listen_loopback();
  REQUIRE(l);
  auto taken = listen_loopback();
  REQUIRE(taken);
  auto r = px.run([](endpoint to, endpoint from) -> task<result<tcp_stream>> {
    co_return co_await connect(to, {.bind_address = from});
  }(l.value().local_endpoint().value(), taken.value().local_endpoint().value()));
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::connect_bind_failed);
}

TEST_CASE("listening on a port in use fails with EADDRINUSE", "[net]") {
  proactor px;
  auto a = listen_loopback();
  REQUIRE(a);
  auto b = tcp_listener::listen(a.value().local_endpoint().value(), {.reuse_address = false});
  REQUIRE_FALSE(b);
  CHECK(b.error() == std::errc::address_in_use);
}

TEST_CASE("reading from a reset connection is ECONNRESET - writing to it never raises SIGPIPE", "[net]") {
  proactor px;
  auto pair = torsion_test::tcp_pair();
  const int peer = pair.release_b();
  px.run([](int fd, int peer) -> task<void> {
    tcp_stream s(fd, *proactor::current());
    torsion_test::close_with_reset(peer);
    std::array<std::byte, 16> buf;
    auto r = co_await s.read_some(buf);
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::connection_reset);
    // The peer is gone: writes fail as values (EPIPE or ECONNRESET), the process lives on.
    const auto data = pattern(1 << 16);
    auto w = co_await s.write_all(data);
    REQUIRE_FALSE(w);
    CHECK((w.error() == std::errc::broken_pipe || w.error() == std::errc::connection_reset));
  }(pair.release_a(), peer));
}

TEST_CASE("TCP_NODELAY and SO_KEEPALIVE default off and toggle", "[net]") {
  proactor px;
  auto pair = torsion_test::tcp_pair();
  tcp_stream s(pair.release_a(), px);
  CHECK(s.no_delay().value() == false);
  CHECK(s.keep_alive().value() == false);
  REQUIRE(s.set_no_delay(true));
  REQUIRE(s.set_keep_alive(true));
  CHECK(s.no_delay().value() == true);
  CHECK(s.keep_alive().value() == true);
  REQUIRE(s.set_no_delay(false));
  CHECK(s.no_delay().value() == false);
  REQUIRE(s.close());
  CHECK_FALSE(s.is_open());
  CHECK_FALSE(s.no_delay());  // closed: an error value, not a crash
}

TEST_CASE("accept can be cancelled - and closing the listener ends pending accepts", "[net]") {
  const bool multishot = GENERATE(true, false);
  proactor px;
  px.run([](bool multishot) -> task<void> {
    auto l = listen_loopback(false, {.multishot = multishot});
    REQUIRE(l);
    auto r = co_await with_timeout(
        [](tcp_listener& l) -> task<result<tcp_stream>> { co_return co_await l.accept(); }(l.value()), 20ms);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::timed_out);

    // Accepting still works after a cancelled accept.
    task_group g;
    result<tcp_stream> got = failure(errc::invalid_state);
    g.spawn([](tcp_listener& l, result<tcp_stream>& got) -> task<void> { got = co_await l.accept(); }(l.value(), got));
    auto c = co_await connect(l.value().local_endpoint().value());
    REQUIRE(c);
    co_await g.join();
    CHECK(got);

    result<tcp_stream> ended = success(tcp_stream{});
    g.spawn([](tcp_listener& l, result<tcp_stream>& out) -> task<void> { out = co_await l.accept(); }(l.value(), ended));
    (void)co_await nop();
    l.value().close();
    co_await g.join();
    REQUIRE_FALSE(ended);
    CHECK(ended.error() == errc::operation_canceled);
  }(multishot));
}

TEST_CASE("connections nobody accepts wait in a bounded queue - then in the backlog", "[net]") {
  proactor px;
  px.run([]() -> task<void> {
    auto l = listen_loopback(false, {.max_queued = 4});
    REQUIRE(l);
    const endpoint ep = l.value().local_endpoint().value();
    // Arm the multishot accept with a first accept, then connect more than the queue holds.
    std::vector<tcp_stream> clients;
    auto first = co_await when_all(
        [](tcp_listener& l) -> task<result<tcp_stream>> { co_return co_await l.accept(); }(l.value()), connect(ep));
    REQUIRE(std::get<0>(first));
    for (int i = 0; i < 10; ++i) {
      auto c = co_await connect(ep);
      REQUIRE(c);
      clients.push_back(std::move(c).value());
    }
    for (int i = 0; i < 5; ++i) (void)co_await nop();
    // Every one of them can still be accepted, none lost.
    for (int i = 0; i < 10; ++i) {
      auto s = co_await with_timeout(
          [](tcp_listener& l) -> task<result<tcp_stream>> { co_return co_await l.accept(); }(l.value()), 2s);
      REQUIRE(s);
    }
  }());
}

TEST_CASE("cancelling a connect in flight reports operation_canceled and leaves nothing behind", "[net]") {
  proactor px;
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0), {.backlog = 0});
  REQUIRE(l);
  const endpoint ep = l.value().local_endpoint().value();
  const std::vector<int> held = torsion_test::fill_backlog(ep);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = px.run([](endpoint ep) -> task<result<tcp_stream>> {
    task_group g;
    result<tcp_stream> out = failure(errc::invalid_state);
    g.spawn([](endpoint ep, result<tcp_stream>& out) -> task<void> { out = co_await connect(ep); }(ep, out));
    for (int i = 0; i < 3; ++i) (void)co_await nop();  // the SYN is out, unanswered
    g.request_stop();
    co_await g.join();
    co_return out;
  }(ep));
  for (int fd : held) ::close(fd);
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::operation_canceled);
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);  // not the 30 s default timeout
  CHECK(px.in_flight() == 0);
}
