#include <catch2/catch.hpp>
#include <chrono>
#include <torsion/torsion.hpp>
#include <vector>

using namespace torsion;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

TEST_CASE("sleep_for on the real clock waits at least the duration", "[time]") {
  proactor px;
  const auto t0 = steady::now();
  auto r = px.run([]() -> task<result<void>> { co_return co_await sleep_for(20ms); }());
  const auto elapsed = steady::now() - t0;
  CHECK(r);
  CHECK(elapsed >= 20ms);
  CHECK(elapsed < 2s);
}

TEST_CASE("concurrent sleeps finish in deadline order", "[time]") {
  proactor px;
  std::vector<int> order;
  px.run([](std::vector<int>& order) -> task<void> {
    auto nap = [](int ms, std::vector<int>& order) -> task<void> {
      (void)co_await sleep_for(std::chrono::milliseconds(ms));
      order.push_back(ms);
    };
    co_await when_all(nap(30, order), nap(10, order), nap(20, order), nap(0, order));
  }(order));
  CHECK(order == std::vector<int>{0, 10, 20, 30});
}

TEST_CASE("a stop request ends a sleep early with operation_canceled", "[time]") {
  proactor px;
  const auto t0 = steady::now();
  auto r = px.run([]() -> task<result<void>> {
    task_group g;
    result<void> out = success();
    g.spawn([](result<void>& out) -> task<void> { out = co_await sleep_for(10s); }(out));
    (void)co_await sleep_for(5ms);
    g.request_stop();
    co_await g.join();
    co_return out;
  }());
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::operation_canceled);
  CHECK(steady::now() - t0 < 2s);
}

TEST_CASE("with_timeout on a task: timed_out when slow - the value when fast", "[time]") {
  proactor px;
  auto slow = px.run([]() -> task<result<int>> {
    co_return co_await with_timeout(
        []() -> task<result<int>> {
          TORSION_CO_TRY(co_await sleep_for(10s));
          co_return 1;
        }(),
        20ms);
  }());
  REQUIRE_FALSE(slow);
  CHECK(slow.error() == errc::timed_out);

  auto fast = px.run([]() -> task<result<int>> {
    co_return co_await with_timeout([]() -> task<int> { co_return 42; }(), 10s);
  }());
  REQUIRE(fast);
  CHECK(fast.value() == 42);
}

TEST_CASE("with_timeout runs on an injected virtual clock", "[time]") {
  virtual_clock c;
  proactor px;
  std::optional<result<void>> out;
  auto t = [](clock_source& c, std::optional<result<void>>& out) -> task<void> {
    out = co_await with_timeout([](clock_source& c) -> task<result<void>> { co_return co_await sleep_for(c, 10s); }(c), 5s, c);
  }(c, out);
  t.handle().resume();
  c.advance(4s);
  CHECK_FALSE(out);
  c.advance(1s);
  // The winner's cancellation of the loser is resumed through the proactor's ready queue.
  px.run([]() -> task<void> { (void)co_await nop(); }());
  REQUIRE(out);
  REQUIRE_FALSE(*out);
  CHECK(out->error() == errc::timed_out);
}
