#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <system_error>
#include <tuple>
#include <variant>
#include <vector>

#include "core_helpers.hpp"
#include "torsion/core/sync_wait.hpp"
#include "torsion/core/task.hpp"
#include "torsion/core/task_group.hpp"
#include "torsion/core/when_all.hpp"
#include "torsion/io/ops.hpp"
#include "torsion/io/proactor.hpp"
#include "torsion/time/sleep.hpp"
#include "torsion/time/virtual_clock.hpp"

using namespace std::chrono_literals;
using torsion::errc;
using torsion::task;
using torsion::when_all;

namespace {

task<void> turns(int n) {
  for (int i = 0; i < n; ++i) {
    auto r = co_await torsion::nop();
    if (!r) throw std::system_error(r.error());
  }
}

task<int> int_after(int n_turns, int v, std::vector<int>* order = nullptr) {
  co_await turns(n_turns);
  if (order) order->push_back(v);
  co_return v;
}

task<void> void_after(int n_turns, bool& done) {
  co_await turns(n_turns);
  done = true;
}

task<std::string> string_after(int n_turns, std::string s) {
  co_await turns(n_turns);
  co_return s;
}

task<int> ready_int(int v) { co_return v; }
task<void> ready_void(int& calls) {
  ++calls;
  co_return;
}
task<std::string> ready_string(std::string s) { co_return s; }
task<std::unique_ptr<int>> ready_unique(int v) { co_return std::make_unique<int>(v); }

task<int> sleeper(std::vector<std::error_code>& outcomes) {
  auto r = co_await torsion::sleep_for(10s);
  outcomes.push_back(r ? std::error_code{} : r.error());
  co_return 0;
}

task<int> throw_after(int n_turns, std::string what) {
  co_await turns(n_turns);
  throw std::runtime_error(what);
}

// Runs when_all and, in the same breath as it returns or throws, reports how many sleepers had finished.
task<std::string> all_with_failure(std::vector<std::error_code>& outcomes, std::size_t& finished_at_return) {
  try {
    (void)co_await when_all(sleeper(outcomes), throw_after(1, "child failed"), sleeper(outcomes));
    co_return "no exception";
  } catch (const std::runtime_error& e) {
    finished_at_return = outcomes.size();
    co_return e.what();
  }
}

task<std::string> vector_with_failure(std::vector<std::error_code>& outcomes, std::size_t& finished_at_return) {
  std::vector<task<int>> tasks;
  for (int i = 0; i < 4; ++i) tasks.push_back(sleeper(outcomes));
  tasks.push_back(throw_after(2, "vector child failed"));
  try {
    (void)co_await when_all(std::move(tasks));
    co_return "no exception";
  } catch (const std::runtime_error& e) {
    finished_at_return = outcomes.size();
    co_return e.what();
  }
}

// A child that turns its cancellation into an exception, as user code that throws on errors would.
task<int> sleeper_that_throws_when_cancelled() {
  auto r = co_await torsion::sleep_for(10s);
  if (!r) throw std::system_error(r.error(), "cancelled sibling");
  co_return 0;
}

task<std::stop_token> token_of_child() { co_return co_await torsion::current_stop_token(); }

task<void> two_sleepers(std::vector<std::error_code>& outcomes, bool& returned) {
  (void)co_await when_all(sleeper(outcomes), sleeper(outcomes));
  returned = true;
}

task<void> when_all_in_group(std::vector<std::error_code>& outcomes, bool& when_all_returned) {
  torsion::task_group g;
  g.spawn(two_sleepers(outcomes, when_all_returned));
  auto r = co_await torsion::nop();
  (void)r;
  g.request_stop();
  co_await g.join();
}

task<bool> vsleep(torsion::virtual_clock& c) {
  auto r = co_await torsion::sleep_for(c, 1s);
  co_return !r && r.error() == errc::operation_canceled;
}

}  // namespace

TEST_CASE("when_all: tuple form with int and void and std::string", "[core][when_all]") {
  SECTION("children that really suspend") {
    torsion::proactor px;
    bool void_done = false;
    auto [i, v, s] = px.run(when_all(int_after(3, 42), void_after(1, void_done), string_after(2, "str")));
    CHECK(i == 42);
    CHECK(std::is_same_v<decltype(v), std::monostate>);
    CHECK(void_done);
    CHECK(s == "str");
  }
  SECTION("children that complete synchronously, without a proactor") {
    int calls = 0;
    auto [i, v, s, u] =
        torsion::sync_wait(when_all(ready_int(1), ready_void(calls), ready_string("x"), ready_unique(5)));
    CHECK(i == 1);
    (void)v;
    CHECK(calls == 1);
    CHECK(s == "x");
    REQUIRE(u);
    CHECK(*u == 5);
  }
}

TEST_CASE("when_all: results come back in argument order rather than completion order", "[core][when_all]") {
  torsion::proactor px;
  std::vector<int> order;
  auto [a, b, c] = px.run(when_all(int_after(3, 1, &order), int_after(1, 2, &order), int_after(2, 3, &order)));
  CHECK(order == std::vector<int>{2, 3, 1});
  CHECK(std::tuple{a, b, c} == std::tuple{1, 2, 3});
}

TEST_CASE("when_all: vector form with 1000 tasks", "[core][when_all]") {
  torsion::proactor px;
  std::vector<task<int>> tasks;
  for (int i = 0; i < 1000; ++i) tasks.push_back(int_after(1 + i % 2, i));
  const std::vector<int> out = px.run(when_all(std::move(tasks)));
  REQUIRE(out.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(out[static_cast<std::size_t>(i)] == i);
  CHECK(px.in_flight() == 0);
}

TEST_CASE("when_all: vector of void tasks", "[core][when_all]") {
  torsion::proactor px;
  std::vector<task<void>> tasks;
  std::unique_ptr<bool[]> done(new bool[50]());
  for (int i = 0; i < 50; ++i) tasks.push_back(void_after(1 + i % 3, done[static_cast<std::size_t>(i)]));
  px.run(when_all(std::move(tasks)));
  for (int i = 0; i < 50; ++i) CHECK(done[static_cast<std::size_t>(i)]);
}

TEST_CASE("when_all: an empty vector completes at once with an empty result", "[core][when_all]") {
  const std::vector<int> out = torsion::sync_wait(when_all(std::vector<task<int>>{}));
  CHECK(out.empty());
  torsion::sync_wait(when_all(std::vector<task<void>>{}));
}

TEST_CASE("when_all: a failing child stops the others and the error comes after all finished", "[core][when_all]") {
  torsion::proactor px;
  std::vector<std::error_code> outcomes;
  std::size_t finished_at_return = 0;
  core_test::stopwatch sw;
  CHECK(px.run(all_with_failure(outcomes, finished_at_return)) == "child failed");
  CHECK(sw.elapsed() < 1s);
  CHECK(finished_at_return == 2);
  REQUIRE(outcomes.size() == 2);
  for (const auto& ec : outcomes) CHECK(ec == errc::operation_canceled);
}

TEST_CASE("when_all: in the vector form a failing child stops the others", "[core][when_all]") {
  torsion::proactor px;
  std::vector<std::error_code> outcomes;
  std::size_t finished_at_return = 0;
  core_test::stopwatch sw;
  CHECK(px.run(vector_with_failure(outcomes, finished_at_return)) == "vector child failed");
  CHECK(sw.elapsed() < 1s);
  CHECK(finished_at_return == 4);
  for (const auto& ec : outcomes) CHECK(ec == errc::operation_canceled);
}

TEST_CASE("when_all: rethrows the exception that happened first rather than an earlier argument's",
          "[core][when_all]") {
  // The sibling at index 0 only throws because the real failure (index 1) cancelled it; reporting
  // its "cancelled" error would hide the cause. task_group::join already reports the first in time.
  torsion::proactor px;
  SECTION("tuple form") {
    CHECK_THROWS_WITH(px.run(when_all(sleeper_that_throws_when_cancelled(), throw_after(1, "root cause"))),
                      "root cause");
  }
  SECTION("vector form") {
    std::vector<task<int>> tasks;
    tasks.push_back(sleeper_that_throws_when_cancelled());
    tasks.push_back(throw_after(1, "root cause"));
    CHECK_THROWS_WITH(px.run(when_all(std::move(tasks))), "root cause");
  }
}

TEST_CASE("when_all: children see a stop token of their own linked to the caller's", "[core][when_all]") {
  std::stop_source parent;
  const std::stop_token parent_tok = parent.get_token();
  auto [a, b] = torsion::sync_wait(when_all(token_of_child(), token_of_child()), &parent_tok);
  CHECK(a == b);
  CHECK(a != parent_tok);  // when_all's own source, so a failing child can stop only its siblings
  CHECK(a != std::stop_token{});
  // The link lives only as long as when_all: afterwards a parent stop no longer reaches it.
  CHECK_FALSE(a.stop_requested());
}

TEST_CASE("when_all: stopping the caller cancels every child", "[core][when_all]") {
  torsion::proactor px;
  std::vector<std::error_code> outcomes;
  bool when_all_returned = false;
  core_test::stopwatch sw;
  px.run(when_all_in_group(outcomes, when_all_returned));
  CHECK(sw.elapsed() < 1s);
  CHECK(when_all_returned);  // cancelled sleepers return normally here, so when_all does too
  REQUIRE(outcomes.size() == 2);
  for (const auto& ec : outcomes) CHECK(ec == errc::operation_canceled);
}

TEST_CASE("when_all: an already-stopped caller starts children already stopped", "[core][when_all]") {
  // Without a proactor: children on a virtual clock see the stop before they would ever suspend.
  torsion::virtual_clock vc;
  std::stop_source parent;
  parent.request_stop();
  const std::stop_token tok = parent.get_token();
  auto [a, b] = torsion::sync_wait(when_all(vsleep(vc), vsleep(vc)), &tok);
  CHECK(a);
  CHECK(b);
  CHECK(vc.pending() == 0);
}
