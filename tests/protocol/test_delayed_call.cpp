// callLater / DelayedCall on the virtual clock: Twisted's ClockTests (twisted/test/test_task.py) and the
// "task.Clock semantics" block of spec Appendix A.05, with Twisted's inputs and expected values.
#include <catch2/catch.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <torsion/protocol/delayed_call.hpp>
#include <torsion/time/virtual_clock.hpp>
#include <utility>
#include <vector>

using namespace torsion;
using namespace torsion::twisted;

namespace {

// task.Clock.advance / pump take seconds.
void advance(virtual_clock& c, double seconds) { c.advance(seconds_to_duration(seconds)); }
void pump(virtual_clock& c, const std::vector<double>& timings) {
  for (double t : timings) advance(c, t);
}

using timed_log = std::vector<std::pair<std::string, double>>;

}  // namespace

TEST_CASE("testSeconds", "[protocol]") {
  virtual_clock c;
  CHECK(c.seconds() == 0.0);
}

TEST_CASE("testCallLater", "[protocol]") {
  virtual_clock c;
  auto call = callLater(c, 1, [] {});
  CHECK(call->getTime() == 1.0);
  CHECK(call->active());
  CHECK_FALSE(call->called());
  CHECK_FALSE(call->cancelled());
  REQUIRE(call->cancel());
}

TEST_CASE("testCallLaterCancelled", "[protocol]") {
  virtual_clock c;
  bool ran = false;
  auto call = callLater(c, 1, [&] { ran = true; });
  REQUIRE(call->cancel());
  CHECK_FALSE(call->active());
  CHECK(call->cancelled());
  CHECK(c.pending() == 0);
  advance(c, 2);
  CHECK_FALSE(ran);
}

TEST_CASE("test_callLaterOrdering", "[protocol]") {
  virtual_clock c;
  auto call1 = callLater(c, 10, [] {});
  auto call2 = callLater(c, 1, [] {});
  CHECK(call1 != call2);
  REQUIRE(call1->cancel());
  REQUIRE(call2->cancel());
}

TEST_CASE("testAdvance", "[protocol]") {
  virtual_clock c;
  int events = 0;
  auto call = callLater(c, 2, [&] { ++events; });
  advance(c, 1);
  CHECK(events == 0);
  advance(c, 1);
  CHECK(events == 1);
  CHECK_FALSE(call->active());
  CHECK(call->called());
}

TEST_CASE("testAdvanceCancel", "[protocol]") {
  // called is set before the function runs, so cancelling from inside it is AlreadyCalled.
  virtual_clock c;
  std::shared_ptr<DelayedCall> call;
  std::error_code inside;
  bool ran = false;
  call = callLater(c, 1, [&] {
    ran = true;
    auto r = call->cancel();
    if (!r) inside = r.error();
  });
  advance(c, 1);
  REQUIRE(ran);
  CHECK(inside == delayed_call_error::already_called);
}

TEST_CASE("testCallLaterDelayed", "[protocol]") {
  virtual_clock c;
  int events = 0;
  auto call = callLater(c, 1, [&] { ++events; });
  REQUIRE(call->delay(1));
  CHECK(call->getTime() == 2.0);
  advance(c, 1.5);
  CHECK(events == 0);
  advance(c, 1.0);
  CHECK(events == 1);
}

TEST_CASE("testCallLaterResetLater", "[protocol]") {
  virtual_clock c;
  int events = 0;
  auto call = callLater(c, 2, [&] { ++events; });
  advance(c, 1);
  REQUIRE(call->reset(3));
  CHECK(call->getTime() == 4.0);
  advance(c, 2);
  CHECK(events == 0);
  advance(c, 1);
  CHECK(events == 1);
}

TEST_CASE("testCallLaterResetSooner", "[protocol]") {
  virtual_clock c;
  int events = 0;
  auto call = callLater(c, 4, [&] { ++events; });
  REQUIRE(call->reset(3));
  CHECK(call->getTime() == 3.0);
  advance(c, 3);
  CHECK(events == 1);
}

TEST_CASE("test_getDelayedCalls", "[protocol]") {
  // Twisted lists the calls; the virtual clock counts them.
  virtual_clock c;
  CHECK(c.pending() == 0);
  auto call = callLater(c, 1, [] {});
  auto call2 = callLater(c, 2, [] {});
  CHECK(c.pending() == 2);
  advance(c, 2);
  CHECK(c.pending() == 0);
}

TEST_CASE("test_callLaterKeepsCallsOrdered", "[protocol]") {
  const timed_log expected{{"b", 2.0}, {"a", 3.0}};
  timed_log result;
  virtual_clock clock;
  auto logtime = [&](std::string n) { return [&, n] { result.emplace_back(n, clock.seconds()); }; };

  auto call_a = callLater(clock, 1.0, logtime("a"));
  REQUIRE(call_a->reset(3.0));
  callLater(clock, 2.0, logtime("b"));

  pump(clock, {1, 1, 1});
  CHECK(result == expected);
}

TEST_CASE("test_callLaterResetKeepsCallsOrdered", "[protocol]") {
  const timed_log expected{{"b", 2.0}, {"a", 3.0}};
  timed_log result;
  virtual_clock clock;
  auto logtime = [&](std::string n) { return [&, n] { result.emplace_back(n, clock.seconds()); }; };

  auto call_a = callLater(clock, 1.0, logtime("a"));
  callLater(clock, 2.0, logtime("b"));
  REQUIRE(call_a->reset(3.0));

  pump(clock, {1, 1, 1});
  CHECK(result == expected);
}

TEST_CASE("test_callLaterResetInsideCallKeepsCallsOrdered", "[protocol]") {
  const timed_log expected{{"c", 3.0}, {"b", 4.0}};
  timed_log result;
  virtual_clock clock;
  auto logtime = [&](std::string n) { return [&, n] { result.emplace_back(n, clock.seconds()); }; };

  auto call_b = callLater(clock, 2.0, logtime("b"));
  callLater(clock, 1.0, [&] { REQUIRE(call_b->reset(3.0)); });
  callLater(clock, 3.0, logtime("c"));

  pump(clock, std::vector<double>(10, 0.5));
  CHECK(result == expected);
}

TEST_CASE("task.Clock semantics from spec A.05", "[protocol]") {
  virtual_clock c;
  std::vector<std::string> order;
  auto append = [&](std::string s) { return [&, s] { order.push_back(s); }; };

  callLater(c, 1, append("a@1"));
  callLater(c, 1, append("b@1 (same time, FIFO)"));
  auto dc = callLater(c, 0.5, append("cancelled"));
  REQUIRE(dc->cancel());
  auto second = dc->cancel();
  REQUIRE_FALSE(second);
  CHECK(second.error() == delayed_call_error::already_cancelled);
  callLater(c, 2, [&] {
    order.push_back("c@2");
    callLater(c, 0, append("d: callLater(0) inside advance"));
  });

  advance(c, 1);
  CHECK(order == std::vector<std::string>{"a@1", "b@1 (same time, FIFO)"});
  CHECK(c.seconds() == 1.0);
  advance(c, 1);
  CHECK(order == std::vector<std::string>{"a@1", "b@1 (same time, FIFO)", "c@2", "d: callLater(0) inside advance"});

  auto dc2 = callLater(c, 1, append("x"));
  advance(c, 1);
  auto late = dc2->cancel();
  REQUIRE_FALSE(late);
  CHECK(late.error() == delayed_call_error::already_called);
  CHECK_FALSE(dc2->active());
  CHECK(c.pending() == 0);
}

TEST_CASE("cancel twice is AlreadyCancelled and reset or delay after cancel too", "[protocol]") {
  virtual_clock c;
  auto dc = callLater(c, 1, [] {});
  REQUIRE(dc->cancel());
  auto r = dc->cancel();
  REQUIRE_FALSE(r);
  CHECK(r.error() == delayed_call_error::already_cancelled);
  CHECK(r.error().category().name() == std::string("torsion.delayed_call"));
  CHECK(r.error().message() == "AlreadyCancelled: tried to cancel an already-cancelled event.");
  auto rr = dc->reset(1);
  REQUIRE_FALSE(rr);
  CHECK(rr.error() == delayed_call_error::already_cancelled);
  auto rd = dc->delay(1);
  REQUIRE_FALSE(rd);
  CHECK(rd.error() == delayed_call_error::already_cancelled);
}

TEST_CASE("reset or delay after the call ran is AlreadyCalled", "[protocol]") {
  virtual_clock c;
  auto dc = callLater(c, 1, [] {});
  advance(c, 1);
  auto r = dc->cancel();
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "AlreadyCalled: tried to cancel an already-called event.");
  auto rr = dc->reset(1);
  REQUIRE_FALSE(rr);
  CHECK(rr.error() == delayed_call_error::already_called);
  auto rd = dc->delay(1);
  REQUIRE_FALSE(rd);
  CHECK(rd.error() == delayed_call_error::already_called);
  CHECK(dc->getTime() == 1.0);  // the time it was due stays readable, as in Twisted
}

TEST_CASE("dropping the handle still fires the call", "[protocol]") {
  virtual_clock c;
  int ran = 0;
  auto tracker = std::make_shared<int>(0);
  std::weak_ptr<DelayedCall> weak;
  {
    auto dc = callLater(c, 1, [&ran, tracker] { ++ran; });
    weak = dc;
  }
  CHECK_FALSE(weak.expired());  // kept alive by its own schedule
  CHECK(tracker.use_count() == 2);
  advance(c, 1);
  CHECK(ran == 1);
  CHECK(weak.expired());            // released once it fired
  CHECK(tracker.use_count() == 1);  // and so were the function's captures
}

TEST_CASE("cancel releases the function and the self reference", "[protocol]") {
  virtual_clock c;
  auto tracker = std::make_shared<int>(0);
  auto dc = callLater(c, 1, [tracker] {});
  std::weak_ptr<DelayedCall> weak = dc;
  REQUIRE(dc->cancel());
  CHECK(tracker.use_count() == 1);
  dc.reset();
  CHECK(weak.expired());
}

TEST_CASE("callLater(0) inside advance runs in the same advance", "[protocol]") {
  virtual_clock c;
  std::vector<double> times;
  callLater(c, 1, [&] {
    times.push_back(c.seconds());
    callLater(c, 0, [&] { times.push_back(c.seconds()); });
  });
  advance(c, 1);
  CHECK(times == std::vector<double>{1.0, 1.0});
  CHECK(c.pending() == 0);
}

TEST_CASE("calls due at the same time run first-in first-out", "[protocol]") {
  virtual_clock c;
  std::vector<int> order;
  for (int i = 0; i < 20; ++i) callLater(c, i % 2 == 0 ? 1.0 : 0.5, [&order, i] { order.push_back(i); });
  advance(c, 1);
  std::vector<int> expected;
  for (int i = 1; i < 20; i += 2) expected.push_back(i);
  for (int i = 0; i < 20; i += 2) expected.push_back(i);
  CHECK(order == expected);
}

TEST_CASE("a negative delay is clamped to zero", "[protocol]") {
  virtual_clock c;
  advance(c, 5);
  int ran = 0;
  auto dc = callLater(c, -3, [&] { ++ran; });
  CHECK(dc->getTime() == 5.0);
  REQUIRE(dc->reset(-1));
  CHECK(dc->getTime() == 5.0);
  advance(c, 0);
  CHECK(ran == 1);
}

TEST_CASE("delay with a negative amount moves the call earlier", "[protocol]") {
  virtual_clock c;
  int ran = 0;
  auto dc = callLater(c, 3, [&] { ++ran; });
  REQUIRE(dc->delay(-2));
  CHECK(dc->getTime() == 1.0);
  advance(c, 1);
  CHECK(ran == 1);
}

TEST_CASE("an exception in a DelayedCall does not stop later calls", "[protocol]") {
  virtual_clock c;
  std::vector<std::string> order;
  auto bad = callLater(c, 1, [&] {
    order.push_back("bad");
    throw std::runtime_error("boom");
  });
  callLater(c, 1, [&] { order.push_back("same time"); });
  callLater(c, 2, [&] { order.push_back("later"); });
  callLater(c, 1, [] { throw 42; });  // not a std::exception: logged as unknown
  REQUIRE_NOTHROW(advance(c, 2));
  CHECK(order == std::vector<std::string>{"bad", "same time", "later"});
  CHECK(bad->called());
  CHECK(c.pending() == 0);
}

TEST_CASE("the last handle may be dropped inside the call itself", "[protocol]") {
  virtual_clock c;
  auto holder = std::make_shared<std::shared_ptr<DelayedCall>>();
  bool ran = false;
  *holder = callLater(c, 1, [holder, &ran] {
    holder->reset();  // drops the caller's handle while running
    ran = true;
  });
  std::weak_ptr<DelayedCall> weak = *holder;
  advance(c, 1);
  CHECK(ran);
  CHECK(weak.expired());
}

TEST_CASE("callLater with an exact duration", "[protocol]") {
  using namespace std::chrono_literals;
  virtual_clock c;
  int ran = 0;
  auto dc = callLater(c, 300ms, [&] { ++ran; });
  CHECK(dc->getTime() == 0.3);
  c.advance(299ms);
  CHECK(ran == 0);
  c.advance(1ms);
  CHECK(ran == 1);
}
