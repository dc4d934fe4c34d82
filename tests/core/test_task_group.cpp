#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <system_error>
#include <vector>

#include "core_helpers.hpp"
#include "torsion/core/event.hpp"
#include "torsion/core/sync_wait.hpp"
#include "torsion/core/task.hpp"
#include "torsion/core/task_group.hpp"
#include "torsion/core/when_any.hpp"
#include "torsion/io/ops.hpp"
#include "torsion/io/proactor.hpp"
#include "torsion/time/sleep.hpp"
#include "torsion/time/virtual_clock.hpp"

using namespace std::chrono_literals;
using torsion::errc;
using torsion::task;
using torsion::task_group;

namespace {

// Takes `turns` real trips through the ring, then records its id.
task<void> nop_worker(int id, int turns, std::vector<int>& finished) {
  for (int i = 0; i < turns; ++i) {
    auto r = co_await torsion::nop();
    if (!r) throw std::system_error(r.error());
  }
  finished.push_back(id);
}

// Sleeps on the real clock and records how the sleep ended.
task<void> long_sleeper(std::vector<std::error_code>& outcomes) {
  auto r = co_await torsion::sleep_for(10s);
  outcomes.push_back(r ? std::error_code{} : r.error());
}

task<void> nop_then_throw(std::string what) {
  auto r = co_await torsion::nop();
  (void)r;
  throw std::runtime_error(what);
}

task<void> record_token(std::stop_token& out) { out = co_await torsion::current_stop_token(); }
task<void> record_token_nested(std::stop_token& out) { co_await record_token(out); }

struct spawn_and_join_result {
  std::size_t size_after_spawn = 0;
  std::size_t size_after_join = 0;
};

task<spawn_and_join_result> spawn_nop_workers(int n, std::vector<int>& finished) {
  task_group g;
  for (int i = 0; i < n; ++i) g.spawn(nop_worker(i, 1 + i % 3, finished));
  spawn_and_join_result out;
  out.size_after_spawn = g.size();
  co_await g.join();
  out.size_after_join = g.size();
  co_return out;
}

task<void> stop_sleepers(int n, std::vector<std::error_code>& outcomes, bool& stopped_seen) {
  task_group g;
  for (int i = 0; i < n; ++i) g.spawn(long_sleeper(outcomes));
  auto r = co_await torsion::nop();  // let the loop run a turn: the sleepers are really waiting
  (void)r;
  g.request_stop();
  stopped_seen = g.stop_requested();
  co_await g.join();
}

task<void> one_fails(std::vector<std::error_code>& outcomes) {
  task_group g;
  g.spawn(long_sleeper(outcomes));
  g.spawn(nop_then_throw("first failure"));
  g.spawn(long_sleeper(outcomes));
  co_await g.join();
}

task<void> throw_after_turns(int turns, std::string what) {
  for (int i = 0; i < turns; ++i) {
    auto r = co_await torsion::nop();
    (void)r;
  }
  throw std::runtime_error(what);
}

task<void> two_fail_ordered() {
  task_group g;
  g.spawn(throw_after_turns(3, "later"));  // spawned first, fails last
  g.spawn(throw_after_turns(1, "earlier"));
  co_await g.join();
}

task<void> join_sleepers(int n, std::vector<std::error_code>& outcomes, bool& join_returned) {
  task_group g;
  for (int i = 0; i < n; ++i) g.spawn(long_sleeper(outcomes));
  co_await g.join();
  join_returned = true;
}

task<int> short_sleep_then(int v) {
  auto r = co_await torsion::sleep_for(20ms);
  co_return r ? v : -1;
}

task<int> one_turn_then(int v) {
  auto r = co_await torsion::nop();
  (void)r;
  co_return v;
}

task<void> stop_via_parent(std::stop_source& parent, std::vector<std::error_code>& outcomes, bool& linked) {
  task_group g(parent.get_token());
  g.spawn(long_sleeper(outcomes));
  g.spawn(long_sleeper(outcomes));
  auto r = co_await torsion::nop();
  (void)r;
  parent.request_stop();
  linked = g.stop_requested();
  co_await g.join();
}

task<void> count_up(int& count) {
  ++count;
  co_return;
}

task<spawn_and_join_result> spawn_counters(int n, int& count) {
  task_group g;
  for (int i = 0; i < n; ++i) g.spawn(count_up(count));
  spawn_and_join_result out;
  out.size_after_spawn = g.size();
  co_await g.join();
  out.size_after_join = g.size();
  co_return out;
}

task<void> virtual_sleeper(torsion::virtual_clock& vc, std::vector<std::error_code>& outcomes) {
  auto r = co_await torsion::sleep_for(vc, 10s);
  outcomes.push_back(r ? std::error_code{} : r.error());
}

task<void> throw_now(std::string what) {
  throw std::runtime_error(what);
  co_return;
}

task<void> fail_during_spawn(torsion::virtual_clock& vc, std::vector<std::error_code>& outcomes) {
  task_group g;
  g.spawn(throw_now("synchronous failure"));
  g.spawn(virtual_sleeper(vc, outcomes));  // starts with the group already stopped
  co_await g.join();
}

task<void> join_with_stopped_parent(torsion::virtual_clock& vc, std::stop_source& parent,
                                    std::vector<std::error_code>& outcomes) {
  task_group g;
  g.spawn(virtual_sleeper(vc, outcomes));
  parent.request_stop();  // our own token: the group is not linked to it until join registers
  co_await g.join();
}

task<void> wait_for_event(torsion::async_event& e, std::vector<int>& got, int id) {
  const bool signalled = co_await e.wait();
  got.push_back(signalled ? id : -id);
}

// Two children wait on events; the group is stopped; only the shielded one keeps waiting and sees
// its event. Its own children inherit the shield.
task<void> stop_with_one_shielded(std::vector<int>& got, std::stop_token& shielded_token) {
  torsion::async_event a, b;
  task_group g;
  g.spawn(wait_for_event(a, got, 1));
  g.spawn([](torsion::async_event& b, std::vector<int>& got, std::stop_token& tok) -> task<void> {
    tok = co_await torsion::current_stop_token();
    co_await wait_for_event(b, got, 2);
  }(b, got, shielded_token).with_stop_token(torsion::no_stop_token));
  g.request_stop();
  b.set();
  co_await g.join();
}

task<void> tokens_in_group(std::stop_token& direct, std::stop_token& nested, std::stop_token& group_token) {
  task_group g;
  group_token = g.get_stop_token();
  g.spawn(record_token(direct));
  g.spawn(record_token_nested(nested));
  co_await g.join();
  g.request_stop();
}

task<std::size_t> join_empty_group() {
  task_group g;
  co_await g.join();
  co_return g.size();
}

task<void> reuse_group(std::vector<int>& finished) {
  task_group g;
  g.spawn(nop_worker(1, 1, finished));
  co_await g.join();
  g.spawn(nop_worker(2, 2, finished));
  co_await g.join();
}

task<void> recover_then_reuse(std::string& first_error, std::vector<int>& finished) {
  task_group g;
  g.spawn(nop_then_throw("boom"));
  try {
    co_await g.join();
  } catch (const std::runtime_error& e) {
    first_error = e.what();
  }
  // The error was consumed by the first join; joining again with no children does not rethrow it.
  co_await g.join();
  finished.push_back(0);
}

}  // namespace

TEST_CASE("task_group: join waits for every child and size counts running children", "[core][task_group]") {
  torsion::proactor px;
  std::vector<int> finished;
  const auto res = px.run(spawn_nop_workers(10, finished));
  CHECK(res.size_after_spawn == 10);  // every child suspended on its first nop
  CHECK(res.size_after_join == 0);
  REQUIRE(finished.size() == 10);
  // Children needing one turn finish before those needing three: they really ran concurrently.
  std::vector<int> one_turn, three_turns;
  for (std::size_t pos = 0; pos < finished.size(); ++pos) {
    if (finished[pos] % 3 == 0) one_turn.push_back(static_cast<int>(pos));
    if (finished[pos] % 3 == 2) three_turns.push_back(static_cast<int>(pos));
  }
  REQUIRE_FALSE(one_turn.empty());
  REQUIRE_FALSE(three_turns.empty());
  CHECK(one_turn.back() < three_turns.front());
}

TEST_CASE("task_group: children that finish synchronously need no proactor", "[core][task_group]") {
  int count = 0;
  const auto sizes = torsion::sync_wait(spawn_counters(5, count));
  CHECK(sizes.size_after_spawn == 0);  // spawn ran each child to completion at once
  CHECK(sizes.size_after_join == 0);
  CHECK(count == 5);
}

TEST_CASE("task_group: a child failing during spawn stops later children before they wait", "[core][task_group]") {
  torsion::virtual_clock vc;
  std::vector<std::error_code> outcomes;
  CHECK_THROWS_WITH(torsion::sync_wait(fail_during_spawn(vc, outcomes)), "synchronous failure");
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0] == errc::operation_canceled);
  CHECK(vc.pending() == 0);
}

TEST_CASE("task_group: join must not resume its caller from inside its own await_suspend", "[core][task_group]") {
  // The joiner's token is already stopped when join suspends: registering the stop callback stops
  // the group at once, a child waiting on a virtual clock (no scheduler: resumed inline) finishes,
  // and on_child_done hands back joiner_, which await_suspend set *before* registering the callback.
  // The joiner then runs to completion and its frame, holding the group, is freed while
  // await_suspend is still on the stack and about to read g.running_ (ASan: heap-use-after-free).
  torsion::virtual_clock vc;
  std::stop_source parent;
  const std::stop_token tok = parent.get_token();
  std::vector<std::error_code> outcomes;
  torsion::sync_wait(join_with_stopped_parent(vc, parent, outcomes), &tok);
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0] == errc::operation_canceled);
}

TEST_CASE("task_group: a child's current_stop_token is the group's token", "[core][task_group]") {
  std::stop_token direct, nested, group_token;
  torsion::sync_wait(tokens_in_group(direct, nested, group_token));
  CHECK(direct == group_token);
  CHECK(nested == group_token);  // inherited by the child's own children
  CHECK(direct != std::stop_token{});
  // tokens_in_group called request_stop() after join: the recorded tokens see it.
  CHECK(direct.stop_requested());
  CHECK(nested.stop_requested());
}

TEST_CASE("task_group: a child run with_stop_token no_stop_token is not cancelled with its group",
          "[core][task_group]") {
  torsion::proactor px;
  std::vector<int> got;
  std::stop_token shielded_token;
  px.run(stop_with_one_shielded(got, shielded_token));
  CHECK(got == std::vector<int>{-1, 2});  // 1 was stopped; 2 waited for its event
  CHECK_FALSE(shielded_token.stop_possible());
}

TEST_CASE("task_group: request_stop cancels children sleeping on the real clock", "[core][task_group]") {
  torsion::proactor px;
  std::vector<std::error_code> outcomes;
  bool stopped_seen = false;
  core_test::stopwatch sw;
  px.run(stop_sleepers(5, outcomes, stopped_seen));
  CHECK(sw.elapsed() < 1s);
  CHECK(stopped_seen);
  REQUIRE(outcomes.size() == 5);
  for (const auto& ec : outcomes) CHECK(ec == errc::operation_canceled);
}

TEST_CASE("task_group: the first child exception cancels siblings and is rethrown by join", "[core][task_group]") {
  torsion::proactor px;
  std::vector<std::error_code> outcomes;
  core_test::stopwatch sw;
  CHECK_THROWS_WITH(px.run(one_fails(outcomes)), "first failure");
  CHECK(sw.elapsed() < 1s);
  REQUIRE(outcomes.size() == 2);  // both siblings finished before join rethrew
  for (const auto& ec : outcomes) CHECK(ec == errc::operation_canceled);
}

TEST_CASE("task_group: join rethrows the exception thrown first rather than that of the child spawned first",
          "[core][task_group]") {
  torsion::proactor px;
  CHECK_THROWS_WITH(px.run(two_fail_ordered()), "earlier");
}

TEST_CASE("task_group: a stop request on the joiner's token cancels the children", "[core][task_group]") {
  // when_any stops the join's task when the other side wins; the stop must reach the children.
  torsion::proactor px;
  std::vector<std::error_code> outcomes;
  bool join_returned = false;
  core_test::stopwatch sw;
  SECTION("the other side wins after one ring turn") {
    auto winner = px.run(torsion::when_any(join_sleepers(3, outcomes, join_returned), one_turn_then(5)));
    REQUIRE(winner.index() == 1);
    CHECK(std::get<1>(winner) == 5);
  }
  SECTION("the other side wins after a short real sleep") {
    auto winner = px.run(torsion::when_any(join_sleepers(3, outcomes, join_returned), short_sleep_then(6)));
    REQUIRE(winner.index() == 1);
    CHECK(std::get<1>(winner) == 6);
    CHECK(sw.elapsed() >= 20ms);
  }
  CHECK(sw.elapsed() < 1s);
  CHECK(join_returned);
  REQUIRE(outcomes.size() == 3);
  for (const auto& ec : outcomes) CHECK(ec == errc::operation_canceled);
}

TEST_CASE("task_group: a group built with a parent token is cancelled with it", "[core][task_group]") {
  SECTION("without coroutines") {
    std::stop_source parent;
    task_group g(parent.get_token());
    CHECK_FALSE(g.stop_requested());
    parent.request_stop();
    CHECK(g.stop_requested());
  }
  SECTION("an already-stopped parent") {
    std::stop_source parent;
    parent.request_stop();
    task_group g(parent.get_token());
    CHECK(g.stop_requested());
  }
  SECTION("children sleeping on the real clock") {
    torsion::proactor px;
    std::stop_source parent;
    std::vector<std::error_code> outcomes;
    bool linked = false;
    core_test::stopwatch sw;
    px.run(stop_via_parent(parent, outcomes, linked));
    CHECK(sw.elapsed() < 1s);
    CHECK(linked);
    REQUIRE(outcomes.size() == 2);
    for (const auto& ec : outcomes) CHECK(ec == errc::operation_canceled);
  }
  SECTION("stopping the group does not stop the parent") {
    std::stop_source parent;
    task_group g(parent.get_token());
    g.request_stop();
    CHECK(g.stop_requested());
    CHECK_FALSE(parent.stop_requested());
  }
}

TEST_CASE("task_group: join on an empty group returns at once", "[core][task_group]") {
  CHECK(torsion::sync_wait(join_empty_group()) == 0);
}

TEST_CASE("task_group: a group can be joined and reused and joined again", "[core][task_group]") {
  torsion::proactor px;
  std::vector<int> finished;
  px.run(reuse_group(finished));
  CHECK(finished == std::vector<int>{1, 2});
}

TEST_CASE("task_group: join consumes the error it rethrows", "[core][task_group]") {
  torsion::proactor px;
  std::string first_error;
  std::vector<int> finished;
  px.run(recover_then_reuse(first_error, finished));
  CHECK(first_error == "boom");
  CHECK(finished == std::vector<int>{0});
}
