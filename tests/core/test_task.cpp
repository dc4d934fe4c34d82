#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "core_helpers.hpp"
#include "torsion/core/sync_wait.hpp"
#include "torsion/core/task.hpp"

using core_test::tracked;
using torsion::sync_wait;
using torsion::task;

namespace {

task<int> answer() { co_return 42; }

task<void> set_flag(bool& flag) {
  flag = true;
  co_return;
}

task<std::string> greet(std::string who) { co_return "hello " + who; }

// Move-only and not default-constructible: the promise must not need either.
struct move_only {
  explicit move_only(int v) : p(std::make_unique<int>(v)) {}
  std::unique_ptr<int> p;
};

task<move_only> make_move_only(int v) { co_return move_only{v}; }
task<std::unique_ptr<int>> make_unique_int(int v) { co_return std::make_unique<int>(v); }
task<int> unwrap(task<move_only> t) {
  move_only m = co_await std::move(t);
  co_return *m.p;
}

struct deep_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

task<int> level3(bool& after3) {
  throw deep_error("from level 3");
  after3 = true;  // never reached; keeps this a coroutine that could return normally
  co_return 3;
}
task<int> level2(bool& after2, bool& after3) {
  const int v = co_await level3(after3);
  after2 = true;
  co_return v + 2;
}
task<int> level1(bool& after1, bool& after2, bool& after3) {
  const int v = co_await level2(after2, after3);
  after1 = true;
  co_return v + 1;
}

task<int> recover_from_level3() {
  bool unused = false;
  try {
    co_return co_await level3(unused);
  } catch (const deep_error&) {
    co_return -1;
  }
}

task<void> void_thrower() {
  throw std::out_of_range("void task failed");
  co_return;
}

task<int> uses_tracked([[maybe_unused]] tracked param, bool& ran) {
  ran = true;
  tracked local;
  co_return tracked::live;
}

task<int> await_lvalue() {
  auto t = answer();
  const int v = co_await t;  // awaiting an lvalue task leaves the task (and its frame) owned here
  co_return t.done() ? v : -1;
}

// Symmetric transfer: each child completes synchronously and hands control straight back.
task<int> one() { co_return 1; }
task<void> nothing() { co_return; }

task<long> sum_of_ones(int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await one();
  co_return sum;
}

task<int> count_void_children(int n) {
  int count = 0;
  for (int i = 0; i < n; ++i) {
    co_await nothing();
    ++count;
  }
  co_return count;
}

task<int> depth(int n) {
  if (!n) co_return 0;
  co_return 1 + co_await depth(n - 1);
}

task<std::uintptr_t> where_am_i() { co_return core_test::stack_position(); }

// How far the stack moved (downwards) between the first and the n-th child, resumed one after another.
task<std::intptr_t> loop_stack_growth(int n) {
  const std::uintptr_t first = co_await where_am_i();
  std::uintptr_t last = first;
  for (int i = 0; i < n; ++i) last = co_await where_am_i();
  co_return static_cast<std::intptr_t>(first - last);
}

task<std::uintptr_t> bottom_position(int n) {
  if (!n) co_return core_test::stack_position();
  co_return co_await bottom_position(n - 1);
}

// How far the stack moved between the top of a recursive chain and its bottom.
task<std::intptr_t> recursion_stack_growth(int n) {
  const std::uintptr_t top = co_await where_am_i();
  const std::uintptr_t bottom = co_await bottom_position(n);
  co_return static_cast<std::intptr_t>(top - bottom);
}

bool symmetric_transfer_is_a_tail_call() {
  return sync_wait(loop_stack_growth(1000)) < 4096 && sync_wait(recursion_stack_growth(1000)) < 4096;
}

task<int> throw_at_bottom(int n) {
  if (!n) throw deep_error("bottom");
  co_return 1 + co_await throw_at_bottom(n - 1);
}

}  // namespace

TEST_CASE("task<int> returns its value", "[core][task]") {
  CHECK(sync_wait(answer()) == 42);
  CHECK(sync_wait(greet("torsion")) == "hello torsion");
}

TEST_CASE("task<void> runs its body", "[core][task]") {
  bool flag = false;
  sync_wait(set_flag(flag));
  CHECK(flag);
}

TEST_CASE("task<T> works with a move-only and non-default-constructible T", "[core][task]") {
  move_only m = sync_wait(make_move_only(7));
  REQUIRE(m.p);
  CHECK(*m.p == 7);

  auto up = sync_wait(make_unique_int(9));
  REQUIRE(up);
  CHECK(*up == 9);

  // Passed into another task and awaited there.
  CHECK(sync_wait(unwrap(make_move_only(11))) == 11);
}

TEST_CASE("an exception propagates through three nested co_awaits", "[core][task]") {
  bool after1 = false, after2 = false, after3 = false;
  try {
    (void)sync_wait(level1(after1, after2, after3));
    FAIL("level1 should have thrown");
  } catch (const deep_error& e) {
    CHECK(std::string(e.what()) == "from level 3");
  }
  // The code after each co_await did not run: the exception left each level at its co_await.
  CHECK_FALSE(after1);
  CHECK_FALSE(after2);
  CHECK_FALSE(after3);
}

TEST_CASE("an awaiter can catch a child's exception and carry on", "[core][task]") {
  CHECK(sync_wait(recover_from_level3()) == -1);
}

TEST_CASE("task<void> propagates its exception", "[core][task]") {
  CHECK_THROWS_AS(sync_wait(void_thrower()), std::out_of_range);
}

TEST_CASE("a task is lazy: its body runs only when awaited", "[core][task]") {
  bool flag = false;
  auto t = set_flag(flag);
  CHECK(t.valid());
  CHECK_FALSE(t.done());
  CHECK_FALSE(flag);
  sync_wait(std::move(t));
  CHECK(flag);
  CHECK_FALSE(t.valid());  // moved from
}

TEST_CASE("destroying an un-awaited task runs no body and frees its frame", "[core][task]") {
  REQUIRE(tracked::live == 0);
  bool ran = false;
  {
    auto t = uses_tracked(tracked{}, ran);
    CHECK(tracked::live == 1);  // the parameter's copy lives in the frame
  }
  CHECK_FALSE(ran);
  CHECK(tracked::live == 0);  // frame destroyed with the task (ASan reports the frame if leaked)

  // Move-assigning over an un-awaited task destroys the old frame too.
  auto a = uses_tracked(tracked{}, ran);
  auto b = uses_tracked(tracked{}, ran);
  CHECK(tracked::live == 2);
  a = std::move(b);
  CHECK(tracked::live == 1);
  CHECK_FALSE(b.valid());
  CHECK(a.valid());
  CHECK_FALSE(ran);

  // Running it destroys the local and, with the task, the parameter.
  CHECK(sync_wait(std::move(a)) == 2);  // parameter + local alive inside the body
  CHECK(ran);
  CHECK(tracked::live == 0);
}

TEST_CASE("a default-constructed task is empty", "[core][task]") {
  task<int> t;
  CHECK_FALSE(t.valid());
  CHECK_FALSE(t.done());
}

TEST_CASE("awaiting an lvalue task leaves it done and owned by the caller", "[core][task]") {
  CHECK(sync_wait(await_lvalue()) == 42);
}

TEST_CASE("symmetric transfer keeps the native stack where it was", "[core][task]" CORE_TEST_DEEP_TRANSFER_TAGS) {
  // Without a tail call each resumption nests inside the previous one: about 2 frames per child.
  CHECK(sync_wait(loop_stack_growth(1000)) < 4096);
  CHECK(sync_wait(recursion_stack_growth(1000)) < 4096);
}

TEST_CASE("symmetric transfer: a million synchronously completing children in a loop",
          "[core][task]" CORE_TEST_DEEP_TRANSFER_TAGS) {
  // Fail cleanly rather than crash with a stack overflow when the compiler does not tail call.
  REQUIRE(symmetric_transfer_is_a_tail_call());
  CHECK(sync_wait(sum_of_ones(1'000'000)) == 1'000'000);
  CHECK(sync_wait(count_void_children(1'000'000)) == 1'000'000);
}

TEST_CASE("symmetric transfer: a recursive chain 100000 deep", "[core][task]" CORE_TEST_DEEP_TRANSFER_TAGS) {
  REQUIRE(symmetric_transfer_is_a_tail_call());
  CHECK(sync_wait(depth(100'000)) == 100'000);
}

TEST_CASE("an exception unwinds a recursive chain 1000 deep", "[core][task]") {
  CHECK_THROWS_AS(sync_wait(throw_at_bottom(1000)), deep_error);
}
