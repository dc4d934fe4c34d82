#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "core_helpers.hpp"
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
using torsion::when_any;

namespace {

// How one child ended, logged the moment it finishes.
struct finish_record {
  int id;
  std::error_code ec;
};
using finish_log = std::vector<finish_record>;

task<int> virtual_sleeper(torsion::virtual_clock& vc, std::chrono::milliseconds d, int id, finish_log& log) {
  auto r = co_await torsion::sleep_for(vc, d);
  log.push_back({id, r ? std::error_code{} : r.error()});
  co_return id;
}

// Moves the virtual clock once the loop has turned, i.e. once every racer is waiting on it.
task<void> advance_later(torsion::virtual_clock& vc, std::chrono::milliseconds d) {
  auto r = co_await torsion::nop();
  (void)r;
  vc.advance(d);
}

struct race_outcome {
  std::size_t winner = 99;
  int value = -1;
  std::size_t finished_at_return = 0;
};

task<race_outcome> race_on_virtual_clock(torsion::virtual_clock& vc, std::chrono::milliseconds advance_by,
                                         finish_log& log) {
  torsion::task_group driver;
  driver.spawn(advance_later(vc, advance_by));
  auto v = co_await when_any(virtual_sleeper(vc, 30ms, 0, log), virtual_sleeper(vc, 10ms, 1, log),
                             virtual_sleeper(vc, 20ms, 2, log));
  race_outcome out;
  out.finished_at_return = log.size();
  out.winner = v.index();
  std::visit([&](int x) { out.value = x; }, v);
  co_await driver.join();
  co_return out;
}

// Takes `n` real ring turns, stopping early (and saying so) if cancelled.
task<int> nop_counter(int n, int id, finish_log& log) {
  for (int i = 0; i < n; ++i) {
    auto r = co_await torsion::nop();
    if (!r) {
      log.push_back({id, r.error()});
      co_return -id;
    }
  }
  log.push_back({id, {}});
  co_return id * 100;
}

task<std::pair<std::pair<std::size_t, int>, std::size_t>> vector_race(finish_log& log) {
  std::vector<task<int>> tasks;
  tasks.push_back(nop_counter(3, 0, log));
  tasks.push_back(nop_counter(4, 1, log));
  tasks.push_back(nop_counter(1, 2, log));
  tasks.push_back(nop_counter(2, 3, log));
  auto won = co_await when_any(std::move(tasks));
  co_return std::pair{won, log.size()};
}

task<int> real_sleeper(int id, finish_log& log) {
  auto r = co_await torsion::sleep_for(10s);
  log.push_back({id, r ? std::error_code{} : r.error()});
  co_return id;
}

task<int> throw_after_turn(std::string what) {
  auto r = co_await torsion::nop();
  (void)r;
  throw std::runtime_error(what);
}

task<std::string> winner_throws(finish_log& log, std::size_t& finished_at_return) {
  try {
    (void)co_await when_any(real_sleeper(0, log), throw_after_turn("winner failed"), real_sleeper(2, log));
    co_return "no exception";
  } catch (const std::runtime_error& e) {
    finished_at_return = log.size();
    co_return e.what();
  }
}

task<int> sleeper_that_throws_when_cancelled() {
  auto r = co_await torsion::sleep_for(10s);
  if (!r) throw std::system_error(r.error(), "loser cancelled");
  co_return 0;
}

task<int> int_after_turns(int n, int v) {
  for (int i = 0; i < n; ++i) {
    auto r = co_await torsion::nop();
    (void)r;
  }
  co_return v;
}

task<void> void_after_turns(int n, bool& done) {
  for (int i = 0; i < n; ++i) {
    auto r = co_await torsion::nop();
    (void)r;
  }
  done = true;
}

task<int> ready_int(int v) { co_return v; }
task<std::unique_ptr<std::string>> ready_unique(std::string s) { co_return std::make_unique<std::string>(s); }

task<bool> virtual_sleep_cancelled(torsion::virtual_clock& vc) {
  auto r = co_await torsion::sleep_for(vc, 1s);
  co_return !r && r.error() == errc::operation_canceled;
}

task<void> race_two_sleepers(finish_log& log, std::size_t& winner) {
  auto v = co_await when_any(real_sleeper(0, log), real_sleeper(1, log));
  winner = v.index();
}

task<void> race_in_group(finish_log& log, std::size_t& winner) {
  torsion::task_group g;
  g.spawn(race_two_sleepers(log, winner));
  auto r = co_await torsion::nop();
  (void)r;
  g.request_stop();
  co_await g.join();
}

}  // namespace

TEST_CASE("when_any: the first to finish wins and the losers are cancelled and finished first", "[core][when_any]") {
  torsion::proactor px;
  torsion::virtual_clock vc;
  finish_log log;
  const race_outcome out = px.run(race_on_virtual_clock(vc, 10ms, log));
  CHECK(out.winner == 1);  // the 10 ms sleeper
  CHECK(out.value == 1);
  CHECK(out.finished_at_return == 3);  // every loser had finished before when_any returned
  REQUIRE(log.size() == 3);
  CHECK(log[0].id == 1);
  CHECK_FALSE(log[0].ec);
  for (std::size_t i = 1; i < log.size(); ++i) {
    CHECK(log[i].id != 1);
    CHECK(log[i].ec == errc::operation_canceled);
  }
  CHECK(vc.pending() == 0);  // cancelled losers took their timers off the clock
}

TEST_CASE("when_any: of several deadlines passed at once the earliest wins", "[core][when_any]") {
  torsion::proactor px;
  torsion::virtual_clock vc;
  finish_log log;
  const race_outcome out = px.run(race_on_virtual_clock(vc, 25ms, log));
  CHECK(out.winner == 1);
  CHECK(out.finished_at_return == 3);
  REQUIRE_FALSE(log.empty());
  CHECK(log[0].id == 1);
  CHECK(vc.pending() == 0);
}

TEST_CASE("when_any: vector form returns the winner's index and value", "[core][when_any]") {
  torsion::proactor px;
  finish_log log;
  const auto [won, finished_at_return] = px.run(vector_race(log));
  CHECK(won.first == 2);  // one ring turn
  CHECK(won.second == 200);
  CHECK(finished_at_return == 4);
  REQUIRE(log.size() == 4);
  CHECK(log[0].id == 2);
  // The losers were stopped before finishing their turns.
  for (std::size_t i = 1; i < log.size(); ++i) CHECK(log[i].ec == errc::operation_canceled);
}

TEST_CASE("when_any: the winner's exception is rethrown after the losers finished", "[core][when_any]") {
  torsion::proactor px;
  finish_log log;
  std::size_t finished_at_return = 0;
  core_test::stopwatch sw;
  CHECK(px.run(winner_throws(log, finished_at_return)) == "winner failed");
  CHECK(sw.elapsed() < 1s);
  CHECK(finished_at_return == 2);
  for (const auto& rec : log) CHECK(rec.ec == errc::operation_canceled);
}

TEST_CASE("when_any: a loser's exception is discarded", "[core][when_any]") {
  torsion::proactor px;
  core_test::stopwatch sw;
  auto v = px.run(when_any(sleeper_that_throws_when_cancelled(), int_after_turns(1, 7)));
  CHECK(sw.elapsed() < 1s);
  REQUIRE(v.index() == 1);
  CHECK(std::get<1>(v) == 7);
}

TEST_CASE("when_any: a void winner yields std::monostate", "[core][when_any]") {
  torsion::proactor px;
  bool done = false;
  auto v = px.run(when_any(void_after_turns(1, done), int_after_turns(3, 5)));
  static_assert(std::is_same_v<decltype(v), std::variant<std::monostate, int>>);
  REQUIRE(v.index() == 0);
  CHECK(std::holds_alternative<std::monostate>(v));
  CHECK(done);

  auto w = px.run(when_any(void_after_turns(3, done), int_after_turns(1, 5)));
  REQUIRE(w.index() == 1);
  CHECK(std::get<1>(w) == 5);
}

TEST_CASE("when_any: duplicate alternative types are told apart by index", "[core][when_any]") {
  torsion::proactor px;
  auto v = px.run(when_any(int_after_turns(2, 10), int_after_turns(1, 20), int_after_turns(3, 30)));
  REQUIRE(v.index() == 1);
  CHECK(std::get<1>(v) == 20);
}

TEST_CASE("when_any: a synchronous winner needs no proactor and stops the rest before they wait", "[core][when_any]") {
  torsion::virtual_clock vc;
  auto v = torsion::sync_wait(when_any(ready_int(7), virtual_sleep_cancelled(vc)));
  REQUIRE(v.index() == 0);
  CHECK(std::get<0>(v) == 7);
  CHECK(vc.pending() == 0);

  // Of two synchronous finishers the first argument wins.
  auto w = torsion::sync_wait(when_any(ready_int(1), ready_int(2)));
  REQUIRE(w.index() == 0);
  CHECK(std::get<0>(w) == 1);
}

TEST_CASE("when_any: move-only results", "[core][when_any]") {
  auto v = torsion::sync_wait(when_any(ready_unique("only")));
  REQUIRE(std::get<0>(v));
  CHECK(*std::get<0>(v) == "only");
}

TEST_CASE("when_any: stopping the caller cancels every child", "[core][when_any]") {
  torsion::proactor px;
  finish_log log;
  std::size_t winner = 99;
  core_test::stopwatch sw;
  px.run(race_in_group(log, winner));
  CHECK(sw.elapsed() < 1s);
  CHECK(winner < 2);  // the first cancelled child to finish
  REQUIRE(log.size() == 2);
  for (const auto& rec : log) CHECK(rec.ec == errc::operation_canceled);
}

TEST_CASE("when_any: an empty vector is rejected instead of reading past the results", "[core][when_any]") {
  // winner stays -1 and when_any indexes boxes[-1]: undefined behaviour. It should throw.
  CHECK_THROWS(torsion::sync_wait(when_any(std::vector<task<int>>{})));
}
