// TimeoutMixin conformance: Twisted's TimeoutMixinTests (twisted/test/test_policies.py) with their inputs
// and expected values, and the TimeoutMixin block of spec §4.5 / Appendix A.05.
#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <torsion/protocols/timeout_mixin.hpp>
#include <torsion/testing/clock.hpp>
#include <torsion/testing/string_transport.hpp>

using namespace torsion;
using namespace torsion::twisted;
using torsion::testing::Clock;
using torsion::testing::StringTransport;

namespace {

// Twisted's TimeoutTester: timeOut 3, set on connection, reset by data, cleared on connectionLost;
// timeoutConnection only records. Like Twisted's, it overrides callLater to use the test clock.
struct TimeoutTester : Protocol, TimeoutMixin {
  Clock& fakeClock;
  bool timedOut = false;

  explicit TimeoutTester(Clock& c) : fakeClock(c) { timeOut = 3; }
  void connectionMade() override { setTimeout(timeOut); }
  void dataReceived(std::string_view data) override {
    resetTimeout();
    Protocol::dataReceived(data);
  }
  void connectionLost(const Failure&) override { setTimeout(std::nullopt); }
  void timeoutConnection() override { timedOut = true; }

 protected:
  std::shared_ptr<DelayedCall> callLater(double period, std::function<void()> fn) override {
    return fakeClock.callLater(period, std::move(fn));
  }
};

// Twisted's setUp: a deterministic clock and a tester (the clock outlives it).
struct Fixture {
  Clock clock;
  TimeoutTester proto{clock};
  StringTransport transport;
};

}  // namespace

TEST_CASE("TimeoutMixinTests.test_overriddenCallLater", "[protocols][twisted]") {
  Fixture f;
  f.proto.setTimeout(10);
  CHECK(f.clock.getDelayedCalls().size() == 1);  // Twisted: len(self.clock.calls) == 1
}

TEST_CASE("TimeoutMixinTests.test_timeout", "[protocols][twisted]") {
  Fixture f;
  f.proto.makeConnection(&f.transport);
  // timeOut value is 3
  f.clock.pump({0, 0.5, 1.0, 1.0});
  CHECK_FALSE(f.proto.timedOut);
  f.clock.pump({0, 1.0});
  CHECK(f.proto.timedOut);
}

TEST_CASE("TimeoutMixinTests.test_noTimeout", "[protocols][twisted]") {
  Fixture f;
  f.proto.makeConnection(&f.transport);
  f.clock.pump({0, 0.5, 1.0, 1.0});
  CHECK_FALSE(f.proto.timedOut);
  f.proto.dataReceived("hello there");
  f.clock.pump({0, 1.0, 1.0, 0.5});
  CHECK_FALSE(f.proto.timedOut);
  f.clock.pump({0, 1.0});
  CHECK(f.proto.timedOut);
}

TEST_CASE("TimeoutMixinTests.test_resetTimeout", "[protocols][twisted]") {
  Fixture f;
  f.proto.timeOut = std::nullopt;
  f.proto.makeConnection(&f.transport);
  f.proto.setTimeout(1);
  CHECK(f.proto.timeOut == 1);
  f.clock.pump({0, 0.9});
  CHECK_FALSE(f.proto.timedOut);
  f.clock.pump({0, 0.2});
  CHECK(f.proto.timedOut);
}

TEST_CASE("TimeoutMixinTests.test_cancelTimeout", "[protocols][twisted]") {
  Fixture f;
  f.proto.timeOut = 5;
  f.proto.makeConnection(&f.transport);
  f.proto.setTimeout(std::nullopt);
  CHECK_FALSE(f.proto.timeOut.has_value());
  f.clock.pump({0, 5, 5, 5});
  CHECK_FALSE(f.proto.timedOut);
}

TEST_CASE("TimeoutMixinTests.test_setTimeoutReturn", "[protocols][twisted]") {
  Fixture f;
  f.proto.timeOut = 5;
  CHECK(f.proto.setTimeout(10) == 5);
  CHECK(f.proto.setTimeout(std::nullopt) == 10);
  CHECK_FALSE(f.proto.setTimeout(1).has_value());
  CHECK(f.proto.timeOut == 1);
  // Clean up the DelayedCall
  f.proto.setTimeout(std::nullopt);
  CHECK(f.clock.getDelayedCalls().empty());
}

TEST_CASE("TimeoutMixinTests.test_setTimeoutCancleAlreadyCancelled", "[protocols][twisted]") {
  Fixture f;
  f.proto.setTimeout(3);
  // An external cancel, for example when the reactor is stopped.
  REQUIRE(f.clock.getDelayedCalls().size() == 1);
  REQUIRE(f.clock.getDelayedCalls()[0]->cancel());
  CHECK(f.proto.timeOut.has_value());
  f.proto.setTimeout(std::nullopt);  // must not fail
  CHECK_FALSE(f.proto.timeOut.has_value());
}

TEST_CASE("TimeoutMixin setTimeout after an external cancel starts a fresh countdown", "[protocols]") {
  // Twisted's reset() would raise AlreadyCancelled here; Torsion (timeout_mixin.cpp) schedules anew.
  Fixture f;
  f.proto.setTimeout(3);
  REQUIRE(f.proto.timeoutCall()->cancel());
  CHECK(f.proto.setTimeout(2) == 3);
  f.clock.advance(1.9);
  CHECK_FALSE(f.proto.timedOut);
  f.clock.advance(0.1);
  CHECK(f.proto.timedOut);
}

TEST_CASE("A.05 TimeoutMixin with task.Clock", "[protocols][twisted]") {
  // Script 05's TO: the default timeoutConnection (loseConnection). Here with the mixin's `clock`
  // member instead of a callLater override, the Torsion way to inject a clock.
  struct TO : Protocol, TimeoutMixin {
    bool timedOut = false;
    TO() { timeOut = 3; }
    void connectionMade() override { setTimeout(timeOut); }
    void dataReceived(std::string_view) override { resetTimeout(); }
    void timeoutConnection() override {
      timedOut = true;
      TimeoutMixin::timeoutConnection();
    }
  };
  Clock c;
  TO p;
  p.clock = &c;
  StringTransport t;
  p.makeConnection(&t);
  c.advance(2.5);
  CHECK_FALSE(p.timedOut);  // t=2.5 timedOut False
  p.dataReceived("x");
  c.advance(2.5);
  CHECK_FALSE(p.timedOut);  // data at 2.5, t=5.0 timedOut False
  c.advance(0.5);
  CHECK(p.timedOut);  // t=5.5 timedOut True transport.disconnecting True
  CHECK(t.disconnecting);
  CHECK(p.timeOut == 3);  // timeOut keeps its value after the timeout fires
  // setTimeout returns previous: 3 10 None
  CHECK(p.setTimeout(10) == 3);
  CHECK(p.setTimeout(std::nullopt) == 10);
  CHECK_FALSE(p.setTimeout(std::nullopt).has_value());
  CHECK(c.pending() == 0);
}

TEST_CASE("TimeoutMixin destroyed with a pending timeout cancels it", "[protocols]") {
  Clock c;
  {
    TimeoutTester p(c);
    p.setTimeout(1);
    CHECK(c.pending() == 1);
  }
  CHECK(c.pending() == 0);
  c.advance(2);  // nothing left to run on a destroyed protocol
}
