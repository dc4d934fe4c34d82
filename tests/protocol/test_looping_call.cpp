// LoopingCall on the virtual clock: Twisted's LoopTests / ReactorLoopTests (twisted/test/test_task.py) and the
// "LoopingCall with task.Clock" block of spec Appendix A.05, with Twisted's inputs and expected values.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <torsion/core/task.hpp>
#include <torsion/core/yield.hpp>
#include <torsion/io/proactor.hpp>
#include <torsion/protocol/looping_call.hpp>
#include <torsion/time/real_clock.hpp>
#include <torsion/time/virtual_clock.hpp>
#include <utility>
#include <vector>

using namespace torsion;
using namespace torsion::twisted;

namespace {

void advance(virtual_clock& c, double seconds) { c.advance(seconds_to_duration(seconds)); }
void pump(virtual_clock& c, const std::vector<double>& timings) {
  for (double t : timings) advance(c, t);
}

struct TestException : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What on_stopped received: how often, and the last exception (null for a clean stop).
struct stop_log {
  int calls = 0;
  std::exception_ptr last;
  std::function<void(std::exception_ptr)> hook() {
    return [this](std::exception_ptr ep) {
      ++calls;
      last = ep;
    };
  }
  template <class E>
  bool last_is() const {
    if (!last) return false;
    try {
      std::rethrow_exception(last);
    } catch (const E&) {
      return true;
    } catch (...) {
    }
    return false;
  }
};

}  // namespace

TEST_CASE("testBasicFunction", "[protocol]") {
  const std::vector<double> timings{0.05, 0.1, 0.1};
  virtual_clock clock;
  int L = 0;
  LoopingCall lc([&] { ++L; });
  lc.clock = &clock;
  stop_log theResult;
  lc.on_stopped = theResult.hook();
  REQUIRE(lc.start(0.1));

  pump(clock, timings);
  CHECK(L == 3);

  lc.stop();
  CHECK(theResult.calls == 1);
  CHECK(theResult.last == nullptr);
  CHECK_FALSE(lc.running);
  CHECK(clock.pending() == 0);  // not planning to do anything further
}

TEST_CASE("testDelayedStart", "[protocol]") {
  const std::vector<double> timings{0.05, 0.1, 0.1};
  virtual_clock clock;
  int L = 0;
  LoopingCall lc([&] { ++L; });
  lc.clock = &clock;
  stop_log theResult;
  lc.on_stopped = theResult.hook();
  REQUIRE(lc.start(0.1, false));

  pump(clock, timings);
  CHECK(L == 2);

  lc.stop();
  CHECK(theResult.calls == 1);
  CHECK(clock.pending() == 0);
}

TEST_CASE("testBadDelay", "[protocol]") {
  virtual_clock clock;
  LoopingCall lc([] {});
  lc.clock = &clock;
  auto r = lc.start(-1);
  REQUIRE_FALSE(r);
  CHECK(r.error() == std::errc::invalid_argument);
  CHECK_FALSE(lc.running);
  CHECK(clock.pending() == 0);
}

TEST_CASE("starting a running LoopingCall is an error", "[protocol]") {
  virtual_clock clock;
  int ran = 0;
  LoopingCall lc([&] { ++ran; });
  lc.clock = &clock;
  REQUIRE(lc.start(1));
  auto r = lc.start(1);
  REQUIRE_FALSE(r);
  CHECK(r.error() == std::errc::operation_in_progress);
  CHECK(ran == 1);
  CHECK(lc.running);
  CHECK(clock.pending() == 1);
  lc.stop();
  REQUIRE(lc.start(1, false));  // a stopped loop can start again
  CHECK(lc.running);
  lc.stop();
  CHECK(clock.pending() == 0);
}

TEST_CASE("testStopAtOnce", "[protocol]") {
  virtual_clock clock;
  bool ran = false;
  LoopingCall lc([&] { ran = true; });
  lc.clock = &clock;
  REQUIRE(lc.start(0, false));
  lc.stop();
  advance(clock, 0);
  CHECK_FALSE(ran);
  CHECK(clock.pending() == 0);
}

TEST_CASE("testStoppingBeforeDelayedStart", "[protocol]") {
  virtual_clock clock;
  bool ran = false;
  LoopingCall lc([&] { ran = true; });
  lc.clock = &clock;
  REQUIRE(lc.start(10, false));
  lc.stop();
  advance(clock, 10);
  CHECK_FALSE(ran);
  CHECK(clock.pending() == 0);
}

TEST_CASE("test_reset", "[protocol]") {
  int ran = 0;
  virtual_clock c;
  LoopingCall lc([&] { ++ran; });
  lc.clock = &c;
  REQUIRE(lc.start(2, false));
  advance(c, 1);
  lc.reset();
  advance(c, 1);
  CHECK(ran == 0);
  advance(c, 1);
  CHECK(ran == 1);
  lc.stop();
}

TEST_CASE("test_callbackTimeSkips", "[protocol]") {
  std::vector<double> times;
  double callDuration = 0;
  virtual_clock clock;
  LoopingCall call([&] {
    times.push_back(clock.seconds());
    advance(clock, callDuration);
  });
  call.clock = &clock;

  callDuration = 2;
  REQUIRE(call.start(0.5));
  CHECK(times == std::vector<double>{0});
  CHECK(clock.seconds() == callDuration);

  // An iteration was due at 2, but 2 is the present, not the future: skipped.
  advance(clock, 0);
  CHECK(times == std::vector<double>{0});

  callDuration = 1;
  advance(clock, 0.5);
  CHECK(times == std::vector<double>{0, 2.5});
  CHECK(clock.seconds() == 3.5);

  advance(clock, 0);
  CHECK(times == std::vector<double>{0, 2.5});

  callDuration = 0;
  advance(clock, 0.5);
  CHECK(times == std::vector<double>{0, 2.5, 4});
  CHECK(clock.seconds() == 4);
  call.stop();
}

TEST_CASE("test_reactorTimeSkips", "[protocol]") {
  std::vector<double> times;
  virtual_clock clock;
  LoopingCall call([&] { times.push_back(clock.seconds()); });
  call.clock = &clock;
  REQUIRE(call.start(0.5));
  CHECK(times == std::vector<double>{0});

  advance(clock, 2);
  CHECK(times == std::vector<double>{0, 2});

  advance(clock, 1);
  CHECK(times == std::vector<double>{0, 2, 3});

  advance(clock, 0);
  CHECK(times == std::vector<double>{0, 2, 3});
  call.stop();
}

TEST_CASE("test_reactorTimeCountSkips", "[protocol]") {
  std::vector<std::pair<double, int>> times;
  virtual_clock clock;
  auto call = LoopingCall::withCount([&](int numCalls) { times.emplace_back(clock.seconds(), numCalls); });
  call.clock = &clock;
  const double INTERVAL = 0.5;
  const double REALISTIC_DELAY = 0.01;
  REQUIRE(call.start(INTERVAL));
  REQUIRE(times.size() == 1);
  CHECK(times[0] == std::pair<double, int>{0, 1});

  advance(clock, INTERVAL + REALISTIC_DELAY);
  REQUIRE(times.size() == 2);
  CHECK(times[1].first == Approx(INTERVAL + REALISTIC_DELAY));
  CHECK(times[1].second == 1);

  // Three more intervals elapsed: two calls were skipped, so the count is 3.
  advance(clock, (3 * INTERVAL) + REALISTIC_DELAY);
  REQUIRE(times.size() == 3);
  CHECK(times[2].first == Approx((4 * INTERVAL) + (2 * REALISTIC_DELAY)));
  CHECK(times[2].second == 3);

  advance(clock, 0);
  CHECK(times.size() == 3);
  call.stop();
}

TEST_CASE("test_countLengthyIntervalCounts", "[protocol]") {
  std::vector<std::pair<double, int>> times;
  virtual_clock clock;
  auto call = LoopingCall::withCount([&](int count) { times.emplace_back(clock.seconds(), count); });
  call.clock = &clock;
  const double INTERVAL = 0.5;
  const double REALISTIC_DELAY = 0.01;
  REQUIRE(call.start(INTERVAL));
  REQUIRE(times.size() == 1);
  CHECK(times.back() == std::pair<double, int>{0, 1});

  advance(clock, INTERVAL + REALISTIC_DELAY);
  REQUIRE(times.size() == 2);
  CHECK(times.back().first == Approx(INTERVAL + REALISTIC_DELAY));
  CHECK(times.back().second == 1);

  // Delayed by most of an interval: still a count of 1.
  advance(clock, INTERVAL * 1.75);
  REQUIRE(times.size() == 3);
  CHECK(times.back().first == Approx((2.75 * INTERVAL) + REALISTIC_DELAY));
  CHECK(times.back().second == 1);

  advance(clock, INTERVAL * 0.25);
  REQUIRE(times.size() == 4);
  CHECK(times.back().first == Approx((3.0 * INTERVAL) + REALISTIC_DELAY));
  CHECK(times.back().second == 1);
  call.stop();
}

TEST_CASE("test_withCountFloatingPointBoundary", "[protocol]") {
  virtual_clock clock;
  std::vector<int> accumulator;
  auto call = LoopingCall::withCount([&](int n) { accumulator.push_back(n); });
  call.clock = &clock;

  const int count = 10;
  const double timespan = 1.0;
  const double interval = timespan / count;
  REQUIRE(call.start(interval, false));
  for (int x = 0; x < count; ++x) advance(clock, interval);

  double sum = 0;
  for (int x = 0; x < count; ++x) sum += interval;
  const double epsilon = timespan - sum;
  advance(clock, epsilon);
  CHECK(std::abs(epsilon) > 0.0);  // the case stays interesting
  CHECK(clock.seconds() >= timespan);

  int total = 0;
  for (int n : accumulator) total += n;
  CHECK(total == count);
  CHECK(std::find(accumulator.begin(), accumulator.end(), 0) == accumulator.end());
  call.stop();
}

TEST_CASE("test_withCountIntervalZero", "[protocol]") {
  // Interval 0 on the virtual clock: every call is due now, so one advance(0) runs the loop until f stops it.
  virtual_clock clock;
  std::vector<int> accumulator;
  std::unique_ptr<LoopingCall> loop;
  loop = std::make_unique<LoopingCall>(LoopingCall::withCount([&](int cnt) {
    accumulator.push_back(cnt);
    if (accumulator.size() > 4) loop->stop();
  }));
  loop->clock = &clock;
  stop_log deferred;
  loop->on_stopped = deferred.hook();
  REQUIRE(loop->start(0, false));

  advance(clock, 0);
  CHECK(deferred.calls == 1);
  CHECK(deferred.last == nullptr);
  CHECK(accumulator == std::vector<int>{1, 1, 1, 1, 1});
  CHECK(clock.pending() == 0);
}

TEST_CASE("testEveryIteration on the virtual clock", "[protocol]") {
  virtual_clock clock;
  int ran = 0;
  LoopingCall* self = nullptr;
  LoopingCall lc([&] {
    ++ran;
    if (ran > 5) self->stop();
  });
  self = &lc;
  lc.clock = &clock;
  stop_log d;
  lc.on_stopped = d.hook();
  REQUIRE(lc.start(0));
  CHECK(ran == 1);
  advance(clock, 0);
  CHECK(ran == 6);
  CHECK(d.calls == 1);
  CHECK(clock.pending() == 0);
}

TEST_CASE("LoopingCall with task.Clock from spec A.05", "[protocol]") {
  SECTION("start(1.0) calls at 0 then 1 then 2 then 5.2") {
    virtual_clock c;
    std::vector<double> calls;
    LoopingCall lc([&] { calls.push_back(c.seconds()); });
    lc.clock = &c;
    stop_log res;
    lc.on_stopped = res.hook();
    REQUIRE(lc.start(1.0));
    pump(c, {0.5, 0.5, 0.5, 0.5, 3.2});
    CHECK(calls == std::vector<double>{0.0, 1.0, 2.0, 5.2});  // skipped intervals are not replayed

    CHECK(c.pending() == 1);
    lc.stop();
    CHECK(res.calls == 1);
    CHECK(res.last == nullptr);
    CHECK(c.pending() == 0);
  }
  SECTION("withCount counts 1 then 3") {
    virtual_clock c2;
    std::vector<int> counts;
    auto lc2 = LoopingCall::withCount([&](int n) { counts.push_back(n); });
    lc2.clock = &c2;
    REQUIRE(lc2.start(1.0, false));
    advance(c2, 1);
    advance(c2, 3.5);
    CHECK(counts == std::vector<int>{1, 3});
    lc2.stop();
  }
  SECTION("an exception in f reaches on_stopped and running becomes false") {
    virtual_clock c3;
    LoopingCall lc3([] { throw TestException("ZeroDivisionError"); });
    lc3.clock = &c3;
    stop_log errs;
    lc3.on_stopped = errs.hook();
    REQUIRE(lc3.start(1.0));
    CHECK(errs.calls == 1);
    CHECK(errs.last_is<TestException>());
    CHECK_FALSE(lc3.running);
    CHECK(c3.pending() == 0);
  }
}

TEST_CASE("testFailure", "[protocol]") {
  // A later call that throws ends the loop with the exception.
  virtual_clock clock;
  int ran = 0;
  LoopingCall lc([&] {
    if (++ran == 3) throw TestException("bar");
  });
  lc.clock = &clock;
  stop_log d;
  lc.on_stopped = d.hook();
  REQUIRE(lc.start(0.1));
  pump(clock, {0.1, 0.1});
  CHECK(d.calls == 1);
  CHECK(d.last_is<TestException>());
  CHECK_FALSE(lc.running);
  CHECK(clock.pending() == 0);
  pump(clock, {0.1, 0.1});
  CHECK(ran == 3);
}

TEST_CASE("testFailAndStop", "[protocol]") {
  virtual_clock clock;
  LoopingCall* self = nullptr;
  LoopingCall lc([&] {
    self->stop();
    throw TestException("bar");
  });
  self = &lc;
  lc.clock = &clock;
  stop_log d;
  lc.on_stopped = d.hook();
  REQUIRE(lc.start(0.1));
  CHECK(d.calls == 1);  // once, with the exception
  CHECK(d.last_is<TestException>());
  CHECK_FALSE(lc.running);
  CHECK(clock.pending() == 0);
}

TEST_CASE("stop inside f reports on_stopped after f returns", "[protocol]") {
  virtual_clock clock;
  LoopingCall* self = nullptr;
  stop_log d;
  int seen_inside = -1;
  LoopingCall lc([&] {
    self->stop();
    seen_inside = d.calls;
  });
  self = &lc;
  lc.clock = &clock;
  lc.on_stopped = d.hook();
  REQUIRE(lc.start(1, false));
  advance(clock, 1);
  CHECK(seen_inside == 0);
  CHECK(d.calls == 1);
  CHECK(d.last == nullptr);
  CHECK_FALSE(lc.running);
  CHECK(clock.pending() == 0);
}

TEST_CASE("stop and reset on a stopped loop do nothing", "[protocol]") {
  virtual_clock clock;
  LoopingCall lc([] {});
  lc.clock = &clock;
  stop_log d;
  lc.on_stopped = d.hook();
  lc.stop();
  lc.reset();
  CHECK(d.calls == 0);
  CHECK(clock.pending() == 0);
}

TEST_CASE("on_stopped may restart the loop", "[protocol]") {
  virtual_clock clock;
  int ran = 0;
  LoopingCall lc([&] { ++ran; });
  lc.clock = &clock;
  int restarts = 0;
  lc.on_stopped = [&](std::exception_ptr) {
    if (restarts++ == 0) REQUIRE(lc.start(1, false));
  };
  REQUIRE(lc.start(1));
  lc.stop();
  CHECK(lc.running);
  advance(clock, 1);
  CHECK(ran == 2);
  lc.stop();
  CHECK_FALSE(lc.running);
  CHECK(restarts == 2);
  CHECK(clock.pending() == 0);
}

TEST_CASE("destroying a running LoopingCall cancels its pending call", "[protocol]") {
  virtual_clock clock;
  int ran = 0;
  {
    LoopingCall lc([&] { ++ran; });
    lc.clock = &clock;
    REQUIRE(lc.start(1));
    CHECK(clock.pending() == 1);
  }
  CHECK(clock.pending() == 0);
  advance(clock, 5);
  CHECK(ran == 1);
}

TEST_CASE("f may destroy its own LoopingCall", "[protocol]") {
  virtual_clock clock;
  int ran = 0;
  std::unique_ptr<LoopingCall> lc;
  lc = std::make_unique<LoopingCall>([&] {
    if (++ran == 2) lc.reset();
  });
  lc->clock = &clock;
  REQUIRE(lc->start(1));
  advance(clock, 1);
  CHECK(ran == 2);
  CHECK(lc == nullptr);
  CHECK(clock.pending() == 0);
  advance(clock, 5);
  CHECK(ran == 2);
}

TEST_CASE("a running LoopingCall can be moved and its pending call follows", "[protocol]") {
  virtual_clock clock;
  std::vector<double> times;
  auto lc = LoopingCall::withCount([&](int n) { times.push_back(clock.seconds() * 10 + n); });
  lc.clock = &clock;
  stop_log d;
  lc.on_stopped = d.hook();
  REQUIRE(lc.start(1));
  std::vector<LoopingCall> loops;
  loops.push_back(std::move(lc));
  CHECK_FALSE(lc.running);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  lc.stop();                // and does nothing
  CHECK(d.calls == 0);
  advance(clock, 1);
  loops.emplace_back([] {});  // may reallocate: moves the running loop again
  advance(clock, 2.5);
  CHECK(times == std::vector<double>{1, 11, 37});
  CHECK(loops[0].running);
  loops[0] = LoopingCall([] {});  // assignment over a running loop cancels its call
  CHECK(clock.pending() == 0);
  CHECK(d.calls == 0);
}

TEST_CASE("changing interval while running takes effect at the next scheduling", "[protocol]") {
  virtual_clock clock;
  std::vector<double> times;
  LoopingCall lc([&] { times.push_back(clock.seconds()); });
  lc.clock = &clock;
  REQUIRE(lc.start(1));
  lc.interval = 2;  // the call at 1 is already scheduled; boundaries are multiples of 2 from the start after
  pump(clock, {1, 1, 1, 1});
  CHECK(times == std::vector<double>{0, 1, 2, 4});
  lc.stop();
}

TEST_CASE("testEveryIteration on the real clock runs once per loop turn", "[protocol]") {
  // Interval 0 on the real clock: the next call waits for the next loop turn, so other work interleaves.
  proactor px;
  int ran = 0;
  int turns = 0;
  stop_log d;
  px.run([](int& ran, int& turns, stop_log& d) -> task<void> {
    LoopingCall* self = nullptr;
    LoopingCall lc([&] {
      ++ran;
      if (ran > 5) self->stop();
    });
    self = &lc;
    lc.on_stopped = d.hook();
    REQUIRE(lc.clock == nullptr);
    REQUIRE(lc.start(0));
    REQUIRE(lc.clock == &real_clock::current());
    for (int i = 0; i < 1000; ++i) {
      if (!lc.running) break;
      ++turns;
      (void)co_await yield();
    }
  }(ran, turns, d));
  CHECK(ran == 6);
  CHECK(d.calls == 1);
  CHECK(turns >= 5);
}
