// Using the coroutine API the wrong way gives an error value or a documented no-op, never undefined
// behaviour: I/O on a closed or never-opened stream, closing twice, accepting on a closed listener,
// listening with no proactor, deadlines already passed, negative sleeps.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <torsion/torsion.hpp>

#include "support/loopback.hpp"
#include "support/proc_stats.hpp"
#include "support/thrown_code.hpp"

using namespace torsion;
using namespace std::chrono_literals;

namespace {

bool is_ebadf(const std::error_code& ec) { return ec == std::errc::bad_file_descriptor; }

}  // namespace

TEST_CASE("a closed or never-opened stream - reads and writes are EBADF - closing again is a no-op", "[net]") {
  proactor px;
  const int fds_before = torsion_test::open_fd_count();
  auto pair = torsion_test::tcp_pair();
  px.run([](int fd) -> task<void> {
    tcp_stream opened(fd, *proactor::current());
    tcp_stream never;  // default-constructed: closed from the start
    for (tcp_stream* s : {&opened, &never}) {
      if (s == &opened) REQUIRE(s->close());
      CHECK_FALSE(s->is_open());
      std::array<std::byte, 16> buf{};
      auto r = co_await s->read_some(buf);
      REQUIRE_FALSE(r);
      CHECK(is_ebadf(r.error()));
      auto w = co_await s->write_all(buf);
      REQUIRE_FALSE(w);
      CHECK(is_ebadf(w.error()));
      auto shut = s->shutdown_write();
      REQUIRE_FALSE(shut);
      CHECK(is_ebadf(shut.error()));
      CHECK_FALSE(s->peer_endpoint());
      CHECK_FALSE(s->set_no_delay(true));
      CHECK(s->close());  // closing a closed stream: success, nothing happens
      CHECK(s->abort());
    }
  }(pair.release_a()));
  CHECK(px.in_flight() == 0);
  ::close(pair.release_b());
  CHECK(torsion_test::open_fd_count() == fds_before);
}

TEST_CASE("a closed or never-opened listener - accept is EBADF - closing again is a no-op", "[net]") {
  proactor px;
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  REQUIRE(l);
  l.value().close();
  l.value().close();  // no-op
  tcp_listener never;
  for (tcp_listener* x : {&l.value(), &never}) {
    CHECK_FALSE(x->is_open());
    auto ep = x->local_endpoint();
    REQUIRE_FALSE(ep);
    CHECK(is_ebadf(ep.error()));
    auto s = px.run([](tcp_listener& x) -> task<result<tcp_stream>> { co_return co_await x.accept(); }(*x));
    REQUIRE_FALSE(s);
    CHECK(is_ebadf(s.error()));
    x->close();
  }
  CHECK(px.in_flight() == 0);
}

// What expects this thread's proactor, used where there is none: invalid_state, never a null
// dereference. A throw from constructors (signal_set, nop); an error value from coroutines.
TEST_CASE("signal_set - nop - resolve and connect with no proactor on the thread are invalid_state", "[net]") {
  REQUIRE(proactor::current() == nullptr);  // no test leaves one behind on the main thread
  CHECK(torsion_test::thrown_code([] { signal_set s{SIGUSR1}; }) == errc::invalid_state);
  CHECK(torsion_test::thrown_code([] { (void)nop(); }) == errc::invalid_state);
  // The coroutines fail before they would suspend, so sync_wait needs no proactor either.
  auto r = sync_wait(resolve("localhost"));
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::invalid_state);
  auto c = sync_wait(connect(endpoint(ip_address::loopback_v4(), 9)));
  REQUIRE_FALSE(c);
  CHECK(c.error() == errc::invalid_state);
  auto n = sync_wait(connect("localhost", 9));
  REQUIRE_FALSE(n);
  CHECK(n.error() == errc::invalid_state);
  // A literal address needs no lookup, so it resolves anywhere.
  auto lit = sync_wait(resolve("127.0.0.1"));
  REQUIRE(lit);
  CHECK(lit.value().size() == 1);
}

TEST_CASE("listening on a thread with no proactor is invalid_state - not a null dereference", "[net][threaded]") {
  result<tcp_listener> l = failure(errc::operation_canceled);
  bool had_proactor = true;
  std::thread([&] {
    had_proactor = proactor::current() != nullptr;
    l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  }).join();
  CHECK_FALSE(had_proactor);
  REQUIRE_FALSE(l);
  CHECK(l.error() == errc::invalid_state);
}

TEST_CASE("a deadline already passed - with_timeout of an operation or a task is timed_out and starts nothing",
          "[net][time]") {
  proactor px;
  auto pair = torsion_test::tcp_pair();
  const char byte = 'x';
  REQUIRE(::write(pair.b, &byte, 1) == 1);  // a read would complete at once: it must not be submitted
  const auto d = GENERATE(0ns, -1ns, std::chrono::nanoseconds(-5s));
  INFO("deadline " << d.count() << " ns");
  const auto submits_before = px.submit_calls();
  bool task_started = false;
  px.run([](int fd, std::chrono::nanoseconds d, bool& task_started) -> task<void> {
    proactor& px = *proactor::current();
    std::array<std::byte, 8> buf{};
    auto r = co_await with_timeout(io_op<ops::recv>(px, fd, std::span(buf)), d);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::timed_out);
    CHECK(px.in_flight() == 0);
    auto t = co_await with_timeout(
        [](bool& started) -> task<int> {
          started = true;
          co_return 1;
        }(task_started),
        d);
    REQUIRE_FALSE(t);
    CHECK(t.error() == errc::timed_out);
  }(pair.a, d, task_started));
  CHECK_FALSE(task_started);
  CHECK(px.submit_calls() == submits_before);    // nothing went to the kernel
  CHECK(torsion_test::socket_inq(pair.a) == 1);  // the byte is still there
}

TEST_CASE("a negative sleep returns at once", "[net][time]") {
  proactor px;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = px.run([]() -> task<result<void>> { co_return co_await sleep_for(-1s); }());
  CHECK(r);
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
}
