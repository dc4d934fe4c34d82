#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <stop_token>
#include <string>

#include "core_helpers.hpp"
#include "torsion/core/scheduler.hpp"
#include "torsion/core/sync_wait.hpp"
#include "torsion/core/task.hpp"
#include "torsion/io/ops.hpp"
#include "torsion/io/proactor.hpp"
#include "torsion/time/sleep.hpp"
#include "torsion/time/virtual_clock.hpp"

using namespace std::chrono_literals;
using core_test::continuation_of_self;
using core_test::set_on_destroy;
using core_test::suspend_forever;
using torsion::sync_wait;
using torsion::task;

namespace {

task<int> seven() { co_return 7; }
task<std::string> text() { co_return std::string(1000, 'x'); }
task<void> done_void(int& calls) {
  ++calls;
  co_return;
}
task<int> throws_logic() {
  throw std::invalid_argument("bad argument");
  co_return 0;
}

// Parks for good; records sync_wait's driver frame so the test can destroy the abandoned chain,
// and whether the frame was destroyed.
task<void> park(std::coroutine_handle<>& root, bool& destroyed) {
  root = co_await continuation_of_self{};
  set_on_destroy guard{&destroyed};
  co_await suspend_forever{};
}

// Same, but waiting on a virtual clock that nobody advances.
task<void> wait_on_virtual_clock(torsion::virtual_clock& vc, std::coroutine_handle<>& root, bool& destroyed) {
  root = co_await continuation_of_self{};
  set_on_destroy guard{&destroyed};
  auto r = co_await torsion::sleep_for(vc, 1s);
  (void)r;
}

// If sync_wait gave up on a suspended task without destroying it, do it here so that nothing
// leaks (ASan) and the virtual clock's queue no longer points into the frame.
void destroy_abandoned(std::coroutine_handle<> root, bool destroyed) {
  if (!destroyed && root) root.destroy();
}

task<int> nop_then_value(int n) {
  for (int i = 0; i < n; ++i) {
    auto r = co_await torsion::nop();
    if (!r) co_return -1;
  }
  co_return n * 10;
}

task<void> nop_then_throw() {
  auto r = co_await torsion::nop();
  if (r) throw std::runtime_error("after a real suspension");
}

task<std::stop_token> my_stop_token() { co_return co_await torsion::current_stop_token(); }
task<std::stop_token> nested_stop_token() { co_return co_await my_stop_token(); }

task<torsion::result<void>> nop_result() { co_return co_await torsion::nop(); }

}  // namespace

TEST_CASE("sync_wait returns the task's value", "[core][sync_wait]") {
  CHECK(sync_wait(seven()) == 7);
  CHECK(sync_wait(text()) == std::string(1000, 'x'));
  int calls = 0;
  sync_wait(done_void(calls));
  CHECK(calls == 1);
}

TEST_CASE("sync_wait rethrows the task's exception", "[core][sync_wait]") {
  CHECK_THROWS_AS(sync_wait(throws_logic()), std::invalid_argument);
  CHECK_THROWS_WITH(sync_wait(throws_logic()), "bad argument");
}

TEST_CASE("sync_wait of a task that suspends with no proactor throws logic_error", "[core][sync_wait]") {
  REQUIRE(torsion::scheduler::current() == nullptr);
  std::coroutine_handle<> root;
  bool destroyed = false;
  CHECK_THROWS_AS(sync_wait(park(root, destroyed)), std::logic_error);
  REQUIRE(root);
  destroy_abandoned(root, destroyed);
  CHECK(destroyed);
}

TEST_CASE("sync_wait destroys the suspended task it gives up on", "[core][sync_wait]") {
  // sync_wait's driver frame points at sync_wait's own locals; leaving it suspended after the
  // throw leaks the chain and leaves dangling pointers that a later resumption would write through.
  std::coroutine_handle<> root;
  bool destroyed = false;
  CHECK_THROWS_AS(sync_wait(park(root, destroyed)), std::logic_error);
  CHECK(destroyed);
  destroy_abandoned(root, destroyed);
}

TEST_CASE("sync_wait passes its stop token to the task and its children", "[core][sync_wait]") {
  std::stop_source src;
  const std::stop_token tok = src.get_token();
  const std::stop_token seen = sync_wait(nested_stop_token(), &tok);
  CHECK(seen == tok);
  CHECK_FALSE(seen.stop_requested());
  src.request_stop();
  CHECK(seen.stop_requested());
}

TEST_CASE("current_stop_token is a default never-stopped token outside any group", "[core][sync_wait]") {
  const std::stop_token seen = sync_wait(nested_stop_token());
  CHECK_FALSE(seen.stop_possible());
  CHECK_FALSE(seen.stop_requested());
  CHECK(seen == std::stop_token{});
}

TEST_CASE("proactor::run returns the value after a real suspension", "[core][sync_wait]") {
  torsion::proactor px;
  const auto before = px.submit_calls();
  CHECK(px.run(nop_then_value(3)) == 30);
  // Each nop took at least one ring turn: the task really suspended and was resumed by the loop.
  CHECK(px.submit_calls() >= before + 3);
  CHECK(px.in_flight() == 0);
}

TEST_CASE("proactor::run rethrows an exception raised after a real suspension", "[core][sync_wait]") {
  torsion::proactor px;
  CHECK_THROWS_WITH(px.run(nop_then_throw()), "after a real suspension");
  // The proactor is still usable afterwards.
  CHECK(px.run(nop_then_value(1)) == 10);
}

TEST_CASE("sync_wait under a stopped token: a nop is cancelled before it starts", "[core][sync_wait]") {
  torsion::proactor px;
  std::stop_source src;
  src.request_stop();
  const std::stop_token tok = src.get_token();
  auto r = sync_wait(nop_result(), &tok);
  REQUIRE_FALSE(r);
  CHECK(r.error() == torsion::errc::operation_canceled);
}

TEST_CASE("proactor::run reports a deadlock instead of hanging", "[core][sync_wait]") {
  torsion::virtual_clock vc;
  std::coroutine_handle<> root;
  bool destroyed = false;
  {
    torsion::proactor px;
    core_test::stopwatch sw;
    CHECK_THROWS_AS(px.run(wait_on_virtual_clock(vc, root, destroyed)), std::logic_error);
    CHECK(sw.elapsed() < 1s);
    REQUIRE(root);
    destroy_abandoned(root, destroyed);
  }
  CHECK(destroyed);
  CHECK(vc.pending() == 0);  // the sleep's destructor took its timer off the clock
}

TEST_CASE("the deadlock message says what happened", "[core][sync_wait]") {
  torsion::virtual_clock vc;
  std::coroutine_handle<> root;
  bool destroyed = false;
  torsion::proactor px;
  try {
    px.run(wait_on_virtual_clock(vc, root, destroyed));
    FAIL("expected a deadlock report");
  } catch (const std::logic_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("deadlock"));
  }
  destroy_abandoned(root, destroyed);
}
