// testing::Clock: the ClockTests cases (twisted/test/test_task.py) that the virtual_clock tests in
// tests/protocol/test_delayed_call.cpp do not already cover: getDelayedCalls, IReactorTime, and advance
// and pump in seconds as doubles.
#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <torsion/testing/clock.hpp>
#include <type_traits>
#include <utility>
#include <vector>

using namespace torsion;
using namespace torsion::twisted;
using torsion::testing::Clock;

TEST_CASE("ClockTests.test_getDelayedCalls", "[testing][twisted]") {
  Clock c;
  auto call = c.callLater(1, [] {});
  auto call2 = c.callLater(2, [] {});
  const auto calls = c.getDelayedCalls();
  CHECK(std::set<std::shared_ptr<DelayedCall>>(calls.begin(), calls.end()) ==
        std::set<std::shared_ptr<DelayedCall>>{call, call2});
  // Pending only, earliest first.
  REQUIRE(call2->reset(0.5));
  CHECK(c.getDelayedCalls() == std::vector<std::shared_ptr<DelayedCall>>{call2, call});
  REQUIRE(call->cancel());
  CHECK(c.getDelayedCalls() == std::vector<std::shared_ptr<DelayedCall>>{call2});
  c.advance(1);
  CHECK(c.getDelayedCalls().empty());
}

TEST_CASE("ClockTests.test_getDelayedCallsEmpty", "[testing][twisted]") {
  Clock c;
  CHECK(c.getDelayedCalls().empty());
}

TEST_CASE("ClockTests.test_providesIReactorTime", "[testing][twisted]") {
  static_assert(std::is_base_of_v<IReactorTime, Clock>);
  static_assert(std::is_base_of_v<clock_source, Clock>);  // so LoopingCall, RCF, TimeoutMixin run on it
  Clock c;
  IReactorTime& reactor = c;  // code that takes a reactor's callLater can be handed the clock
  std::vector<double> ran;
  auto call = reactor.callLater(1.5, [&] { ran.push_back(reactor.seconds()); });
  CHECK(call->getTime() == 1.5);
  CHECK(reactor.seconds() == 0.0);
  c.advance(1.5);
  CHECK(ran == std::vector<double>{1.5});
}

TEST_CASE("Clock advance takes seconds as a double", "[testing][twisted]") {
  Clock c;
  std::vector<std::string> order;
  c.callLater(0.25, [&] { order.push_back("a@0.25"); });
  c.callLater(0.3, [&] { order.push_back("b@0.3"); });
  c.callLater(0.3, [&] { order.push_back("c@0.3"); });  // same time: first in, first out
  c.advance(0.1);
  CHECK(order.empty());
  c.advance(0.15);
  CHECK(order == std::vector<std::string>{"a@0.25"});
  CHECK(c.seconds() == Approx(0.25));
  c.advance(0.05);
  CHECK(order == std::vector<std::string>{"a@0.25", "b@0.3", "c@0.3"});
  CHECK(c.seconds() == Approx(0.3));
  c.advance(0);  // advance(0) runs nothing new and does not move time
  CHECK(c.seconds() == Approx(0.3));
}

TEST_CASE("Clock pump takes a list of doubles", "[testing][twisted]") {
  // test_callLaterResetInsideCallKeepsCallsOrdered's pumps: [0.5] * 10, expected [("c", 3.0), ("b", 4.0)].
  Clock clock;
  std::vector<std::pair<std::string, double>> result;
  auto call_b = clock.callLater(2.0, [&] { result.emplace_back("b", clock.seconds()); });
  clock.callLater(1.0, [&] { REQUIRE(call_b->reset(3.0)); });
  clock.callLater(3.0, [&] { result.emplace_back("c", clock.seconds()); });
  clock.pump(std::vector<double>(10, 0.5));
  REQUIRE(result.size() == 2);
  CHECK(result[0].first == "c");
  CHECK(result[0].second == Approx(3.0));
  CHECK(result[1].first == "b");
  CHECK(result[1].second == Approx(4.0));

  Clock c2;
  int n = 0;
  c2.callLater(1, [&] { ++n; });
  c2.pump({0.5, 0.25, 0.25});
  CHECK(n == 1);
  CHECK(c2.seconds() == Approx(1.0));
}

TEST_CASE("Clock callLater with a negative delay runs at the next advance", "[testing]") {
  // Twisted's Clock accepts a negative delay (its call is simply due); Torsion clamps it to now.
  Clock c;
  bool ran = false;
  auto call = c.callLater(-1, [&] { ran = true; });
  CHECK(call->getTime() == 0.0);
  CHECK_FALSE(ran);
  c.advance(0);
  CHECK(ran);
}

TEST_CASE("Clock getDelayedCalls forgets finished calls", "[testing]") {
  Clock c;
  int ran = 0;
  for (int i = 0; i < 1000; ++i) c.callLater(0.001 * (i % 10), [&] { ++ran; });
  auto last = c.callLater(100, [] {});
  c.advance(1);
  CHECK(ran == 1000);
  CHECK(c.getDelayedCalls() == std::vector<std::shared_ptr<DelayedCall>>{last});
  REQUIRE(last->cancel());
}
