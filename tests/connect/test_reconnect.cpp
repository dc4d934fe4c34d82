#include <catch2/catch.hpp>
#include <string>
#include <torsion/torsion.hpp>
#include <vector>

#include "support/loopback.hpp"

using namespace torsion;
using namespace std::chrono_literals;
using kind = connector_event_kind;

namespace {

std::uint16_t closed_port() {
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  return l.value().local_endpoint().value().port();
}

std::unique_ptr<twisted_backoff> twisted_no_jitter(std::optional<unsigned> max_retries = std::nullopt) {
  auto p = std::make_unique<twisted_backoff>();
  p->jitter = 0;
  p->max_retries = max_retries;
  return p;
}

struct event_log {
  std::vector<connector_event> events;
  std::size_t count(kind k) const {
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [k](auto& e) { return e.kind == k; }));
  }
  std::vector<clock_source::duration> delays() const {
    std::vector<clock_source::duration> out;
    for (auto& e : events)
      if (e.kind == kind::retry) out.push_back(*e.delay);
    return out;
  }
  bool last_is(kind k) const { return !events.empty() && events.back().kind == k; }
};

// Options for a client driven by a virtual clock, recording every event.
reconnect_options virtual_options(std::uint16_t port, std::unique_ptr<twisted_backoff> policy, virtual_clock& clk,
                                  random_source& rng, event_log& log) {
  return {.host = "127.0.0.1",
          .port = port,
          .policy = std::move(policy),
          .clock = &clk,
          .rng = &rng,
          .on_event = [&log](const connector_event& e) { log.events.push_back(e); }};
}

// Loop turns until `pred` holds (bounded: a stuck engine fails the test instead of hanging it).
task<bool> until(std::function<bool()> pred, int max_turns = 20000) {
  for (int i = 0; i < max_turns; ++i) {
    if (pred()) co_return true;
    (void)co_await nop();
  }
  co_return pred();
}

task<result<void>> never_called(tcp_stream&) {
  FAIL("no connection expected");
  co_return success();
}

}  // namespace

TEST_CASE("engine delays follow Twisted's jitter-0 table exactly under virtual time", "[connect]") {
  proactor px;
  virtual_clock clk;
  python_random rng(1);
  event_log log;
  reconnecting_client client(virtual_options(closed_port(), twisted_no_jitter(), clk, rng, log));
  // twisted-semantics §1.5: iterative multiply from initialDelay, clamped at 3600 from the 9th retry.
  const double table[] = {2.718281828459045,  7.3890560989306495, 20.085536923187664, 54.59815003314423,
                          148.41315910257657, 403.428793492735,   1096.6331584284583, 2980.9579870417274,
                          3600, 3600, 3600, 3600, 3600, 3600, 3600};
  px.run([](reconnecting_client& client, virtual_clock& clk, event_log& log, const double (&table)[15]) -> task<void> {
    task_group g;
    g.spawn([](reconnecting_client& c) -> task<void> { (void)co_await c.run(never_called); }(client));
    for (std::size_t n = 1; n <= 15; ++n) {
      REQUIRE(co_await until([&] { return log.count(kind::retry) == n; }));
      const auto d = log.delays().back();
      CHECK(d == delay_from_seconds(table[n - 1]));
      // The next attempt starts exactly when the delay has passed, not a nanosecond earlier.
      clk.advance(d - 1ns);
      CHECK(log.count(kind::attempt) == n);
      clk.advance(1ns);
      CHECK(log.count(kind::attempt) == n + 1);
    }
    client.stop_trying();
    co_await g.join();
  }(client, clk, log, table));
  // The 16th attempt was in flight when stop_trying() aborted it: a failure, but not retried.
  CHECK(log.count(kind::failed) == 16);
  CHECK(log.events.back().reason == errc::user_cancelled);
  CHECK(client.engine().policy().retries() == 15);
}

TEST_CASE("max_retries gives exactly that many retries then gives up", "[connect]") {
  const unsigned max = GENERATE(0u, 1u, 3u);
  INFO("max_retries=" << max);
  proactor px;
  virtual_clock clk;
  python_random rng(1);
  event_log log;
  reconnecting_client client(virtual_options(closed_port(), twisted_no_jitter(max), clk, rng, log));
  auto r = px.run([](reconnecting_client& client, virtual_clock& clk) -> task<result<void>> {
    task_group g;
    result<void> out = success();
    g.spawn([](reconnecting_client& c, result<void>& out) -> task<void> { out = co_await c.run(never_called); }(client,
                                                                                                              out));
    for (int i = 0; i < 20 && g.size() > 0; ++i) {
      co_await until([&] { return client.engine().retry_pending() || g.size() == 0; });
      clk.advance(3600s);
    }
    co_await g.join();
    co_return out;
  }(client, clk));
  CHECK(log.count(kind::retry) == max);
  CHECK(log.count(kind::attempt) == max + 1);
  CHECK(log.last_is(kind::gave_up));
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::connection_refused);  // giving up reports the last failure
  CHECK(client.engine().policy().retries() == max + 1);
}

TEST_CASE("stop_trying with a retry pending cancels it", "[connect]") {
  proactor px;
  virtual_clock clk;
  python_random rng(1);
  event_log log;
  reconnecting_client client(virtual_options(closed_port(), twisted_no_jitter(), clk, rng, log));
  auto r = px.run([](reconnecting_client& client, virtual_clock& clk) -> task<result<void>> {
    task_group g;
    result<void> out = failure(errc::invalid_state);
    g.spawn([](reconnecting_client& c, result<void>& out) -> task<void> { out = co_await c.run(never_called); }(client,
                                                                                                              out));
    REQUIRE(co_await until([&] { return client.engine().retry_pending(); }));
    client.stop_trying();
    CHECK_FALSE(client.engine().retry_pending());
    co_await g.join();
    clk.advance(100000s);
    co_return out;
  }(client, clk));
  CHECK(r);  // stopped by the user: success
  CHECK(log.count(kind::attempt) == 1);
  CHECK(clk.pending() == 0);
}

TEST_CASE("stop_trying aborts the very first attempt in flight", "[connect]") {
  proactor px;
  virtual_clock clk;
  python_random rng(1);
  event_log log;
  // A listener with a full backlog drops SYNs, so the first attempt stays in flight.
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0), {.backlog = 0});
  REQUIRE(l);
  const endpoint ep = l.value().local_endpoint().value();
  const std::vector<int> fillers = torsion_test::fill_backlog(ep);
  reconnecting_client client(virtual_options(ep.port(), twisted_no_jitter(), clk, rng, log));
  auto r = px.run([](reconnecting_client& client) -> task<result<void>> {
    task_group g;
    result<void> out = failure(errc::invalid_state);
    g.spawn([](reconnecting_client& c, result<void>& out) -> task<void> { out = co_await c.run(never_called); }(client,
                                                                                                              out));
    for (int i = 0; i < 5; ++i) (void)co_await nop();
    CHECK(client.get_connector().state() == connector_state::connecting);
    client.stop_trying();  // Twisted would let this first attempt complete (§1.5 item 7); we abort it
    CHECK(client.get_connector().state() == connector_state::disconnected);
    co_await g.join();
    co_return out;
  }(client));
  for (int fd : fillers) ::close(fd);
  CHECK(r);
  REQUIRE(log.count(kind::failed) == 1);
  CHECK(log.events.back().kind == kind::failed);
  CHECK(log.events.back().reason == errc::user_cancelled);
  CHECK(log.count(kind::retry) == 0);
}

namespace {
// Accepts connections and closes each at once (spec 06 E's server).
task<void> accept_and_drop(tcp_listener& l) {
  for (;;) {
    auto s = co_await l.accept();
    if (!s) co_return;
  }
}

// Drives a client against accept_and_drop under virtual time: whenever a retry is pending, jump the
// clock to it. Returns once the client's run() has returned.
task<result<void>> drive(reconnecting_client& client, virtual_clock& clk, tcp_listener& l, bool reset_each_time,
                         int stop_after_connections, event_log& log) {
  task_group g;
  g.spawn(accept_and_drop(l));
  result<void> out = failure(errc::invalid_state);
  bool finished = false;
  g.spawn([](reconnecting_client& c, bool reset, result<void>& out, bool& finished) -> task<void> {
    out = co_await c.run([&c, reset](tcp_stream& s) -> task<result<void>> {
      if (reset) c.reset_delay();  // the documented idiom: reset once connected
      std::array<std::byte, 16> buf;
      auto n = co_await s.read_some(buf);  // the server closes: end of stream
      if (!n) co_return n.error();
      co_return success();
    });
    finished = true;
  }(client, reset_each_time, out, finished));
  while (!finished) {
    REQUIRE(co_await until([&] { return finished || client.engine().retry_pending(); }));
    if (!finished && static_cast<int>(log.count(kind::connected)) >= stop_after_connections) client.stop_trying();
    if (client.engine().retry_pending()) clk.advance(*client.engine().pending_at() - clk.now());
  }
  l.close();
  co_await g.join();
  co_return out;
}
}  // namespace

TEST_CASE("retries count across successful connections unless reset_delay is called", "[connect]") {
  proactor px;
  virtual_clock clk;
  python_random rng(1);
  event_log log;
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  REQUIRE(l);
  reconnecting_client client(virtual_options(l.value().local_endpoint().value().port(), twisted_no_jitter(2), clk, rng, log));
  auto r = px.run(drive(client, clk, l.value(), false, 100, log));
  // Spec 06 E: with max_retries 2 the client gives up after three connections that all succeeded.
  CHECK(log.count(kind::connected) == 3);
  CHECK(log.count(kind::lost) == 3);
  CHECK(log.delays() == std::vector<clock_source::duration>{delay_from_seconds(2.718281828459045),
                                                            delay_from_seconds(7.3890560989306495)});
  CHECK(log.last_is(kind::gave_up));
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::connection_done);
}

TEST_CASE("reset_delay after each connection keeps the first delay and keeps reconnecting", "[connect]") {
  proactor px;
  virtual_clock clk;
  python_random rng(1);
  event_log log;
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  REQUIRE(l);
  reconnecting_client client(virtual_options(l.value().local_endpoint().value().port(), twisted_no_jitter(2), clk, rng, log));
  auto r = px.run(drive(client, clk, l.value(), true, 6, log));
  // Spec 06 E2: every retry waits initialDelay * factor, and the client never gives up by itself.
  CHECK(log.count(kind::connected) == 6);
  for (auto d : log.delays()) CHECK(d == delay_from_seconds(2.718281828459045));
  CHECK(log.count(kind::gave_up) == 0);
  CHECK(r);  // ended by stop_trying
}

TEST_CASE("stop_trying while connected leaves the connection up and never reconnects", "[connect]") {
  proactor px;
  virtual_clock clk;
  python_random rng(1);
  event_log log;
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  REQUIRE(l);
  reconnecting_client client(virtual_options(l.value().local_endpoint().value().port(), twisted_no_jitter(), clk, rng, log));
  auto out = px.run([](reconnecting_client& client, tcp_listener& l, event_log& log) -> task<result<void>> {
    task_group g;
    result<void> out = failure(errc::invalid_state);
    std::optional<tcp_stream> server;
    g.spawn([](tcp_listener& l, std::optional<tcp_stream>& server) -> task<void> {
      auto s = co_await l.accept();
      if (s) server.emplace(std::move(s).value());
    }(l, server));
    g.spawn([](reconnecting_client& c, result<void>& out) -> task<void> {
      out = co_await c.run([](tcp_stream& s) -> task<result<void>> {
        static constexpr char ping[] = "ping";
        TORSION_CO_TRY(co_await s.write_all(std::as_bytes(std::span(ping, 4))));
        std::array<std::byte, 16> buf;
        for (;;) {
          auto n = co_await s.read_some(buf);
          if (!n) co_return n.error();
          if (n.value() == 0) co_return success();
        }
      });
    }(client, out));
    REQUIRE(co_await until([&] { return server.has_value() && log.count(kind::connected) == 1; }));
    client.stop_trying();
    // Still connected: the server receives the client's bytes after stop_trying.
    std::array<std::byte, 4> got;
    auto n = co_await server->read_exactly(got);
    CHECK(n);
    CHECK(client.get_connector().state() == connector_state::connected);
    (void)server->close();  // now the connection ends, and nothing is retried
    co_await g.join();
    co_return out;
  }(client, l.value(), log));
  CHECK(out);
  CHECK(log.count(kind::lost) == 1);
  CHECK(log.count(kind::retry) == 0);
  CHECK(log.count(kind::attempt) == 1);
}

TEST_CASE("real clock: a client retries a closed port - connects once a listener appears - reconnects after the server closes",
          "[connect]") {
  proactor px;
  python_random rng(1);
  event_log log;
  const std::uint16_t port = closed_port();
  auto policy = std::make_unique<twisted_backoff>();
  policy->initial_delay = policy->delay = 0.005;
  policy->factor = 2;
  policy->jitter = 0;
  policy->max_delay = 0.02;
  reconnecting_client client({.host = "127.0.0.1",
                              .port = port,
                              .policy = std::move(policy),
                              .rng = &rng,
                              .on_event = [&](const connector_event& e) { log.events.push_back(e); }});
  int sessions = 0;
  auto r = px.run([](reconnecting_client& client, std::uint16_t port, event_log& log, int& sessions) -> task<result<void>> {
    task_group g;
    result<void> out = failure(errc::invalid_state);
    g.spawn([](reconnecting_client& c, result<void>& out, int& sessions) -> task<void> {
      out = co_await c.run([&sessions](tcp_stream& s) -> task<result<void>> {
        ++sessions;
        std::array<std::byte, 16> buf;
        for (;;) {
          auto n = co_await s.read_some(buf);
          if (!n) co_return n.error();
          if (n.value() == 0) co_return success();
        }
      });
    }(client, out, sessions));
    // Let it fail a few times against the closed port.
    REQUIRE(co_await until([&] { return log.count(kind::failed) >= 3; }, 1000000));
    auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), port));
    REQUIRE(l);
    for (int round = 1; round <= 2; ++round) {
      auto s = co_await with_timeout([](tcp_listener& l) -> task<result<tcp_stream>> { co_return co_await l.accept(); }(l.value()), 5s);
      REQUIRE(s);
      REQUIRE(co_await until([&] { return sessions == round; }, 1000000));
      (void)s.value().close();  // the server drops the connection; the client comes back
    }
    REQUIRE(co_await until([&] { return log.count(kind::connected) == 2 && log.count(kind::lost) == 2; }, 1000000));
    client.stop();
    co_await g.join();
    co_return out;
  }(client, port, log, sessions));
  CHECK(r);
  CHECK(log.count(kind::failed) >= 3);
  for (auto& e : log.events)
    if (e.kind == kind::failed) CHECK(e.reason == errc::connection_refused);
  CHECK(sessions == 2);
}
