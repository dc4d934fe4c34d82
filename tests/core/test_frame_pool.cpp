#include <catch2/catch.hpp>
#include <cstddef>
#include <cstring>
#include <thread>
#include <vector>

#include "torsion/core/frame_pool.hpp"
#include "torsion/core/sync_wait.hpp"
#include "torsion/core/task.hpp"
#include "torsion/core/when_all.hpp"

namespace fp = torsion::frame_pool;
using torsion::task;

namespace {

task<int> leaf(int i) { co_return i; }
task<void> void_leaf() { co_return; }

task<long> await_many(int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) {
    sum += co_await leaf(i);
    co_await void_leaf();
  }
  co_return sum;
}

// Frames of several sizes alive at once, like a real call tree.
[[maybe_unused]] task<int> nested(int depth) {  // unused when the pool is compiled out
  if (depth == 0) co_return 1;
  const int a = co_await nested(depth - 1);
  const int b = co_await nested(depth - 1);
  co_return a + b;
}

long expected_sum(int n) { return static_cast<long>(n) * (n - 1) / 2; }

}  // namespace

#ifndef TORSION_NO_FRAME_POOL

TEST_CASE("frame_pool: after warm-up 10000 awaited tasks allocate nothing", "[core][frame_pool]") {
  constexpr int n = 10'000;
  REQUIRE(torsion::sync_wait(await_many(n)) == expected_sum(n));  // warm-up: fills the free lists
  const std::size_t before = fp::heap_allocations();
  REQUIRE(torsion::sync_wait(await_many(n)) == expected_sum(n));
  CHECK(fp::heap_allocations() == before);
}

TEST_CASE("frame_pool: a tree of live frames is reused after warm-up", "[core][frame_pool]") {
  REQUIRE(torsion::sync_wait(nested(10)) == 1024);
  const std::size_t before = fp::heap_allocations();
  for (int i = 0; i < 10; ++i) REQUIRE(torsion::sync_wait(nested(10)) == 1024);
  CHECK(fp::heap_allocations() == before);
}

TEST_CASE("frame_pool: when_all's helper frames come from the pool too", "[core][frame_pool]") {
  auto run = [] {
    std::vector<task<int>> tasks;
    for (int i = 0; i < 100; ++i) tasks.push_back(leaf(i));
    return torsion::sync_wait(torsion::when_all(std::move(tasks))).size();
  };
  REQUIRE(run() == 100);
  const std::size_t before = fp::heap_allocations();
  REQUIRE(run() == 100);
  CHECK(fp::heap_allocations() == before);
}

TEST_CASE("frame_pool: a freed block is handed out again for any size in its bucket", "[core][frame_pool]") {
  void* a = fp::allocate(100);  // bucket 65..128
  std::memset(a, 0xab, 100);
  const std::size_t before = fp::heap_allocations();
  fp::deallocate(a, 100);
  void* b = fp::allocate(128);  // same bucket, larger request: the block is 128 bytes
  CHECK(b == a);
  std::memset(b, 0xcd, 128);
  CHECK(fp::heap_allocations() == before);
  fp::deallocate(b, 128);

  // A different bucket does not take it.
  void* c = fp::allocate(129);
  CHECK(c != a);
  fp::deallocate(c, 129);
}

TEST_CASE("frame_pool: frames above the largest bucket go to the heap every time", "[core][frame_pool]") {
  constexpr std::size_t big = 64 * 1024;
  const std::size_t before = fp::heap_allocations();
  void* a = fp::allocate(big);
  std::memset(a, 1, big);
  fp::deallocate(a, big);
  void* b = fp::allocate(big);
  fp::deallocate(b, big);
  CHECK(fp::heap_allocations() == before + 2);
}

TEST_CASE("frame_pool: each thread has its own pool and counter", "[core][frame_pool]") {
  void* mine = fp::allocate(200);
  fp::deallocate(mine, 200);
  const std::size_t here = fp::heap_allocations();
  std::size_t there_before = 0, there_after = 0;
  void* theirs = nullptr;
  std::thread t([&] {
    there_before = fp::heap_allocations();
    theirs = fp::allocate(200);  // this thread's pool is empty: a miss, not our cached block
    there_after = fp::heap_allocations();
    fp::deallocate(theirs, 200);
  });
  t.join();
  CHECK(there_after == there_before + 1);
  CHECK(theirs != mine);
  CHECK(fp::heap_allocations() == here);
}

#else

TEST_CASE("frame_pool: with TORSION_NO_FRAME_POOL every frame is a heap allocation", "[core][frame_pool]") {
  // Sanitizer builds disable the pool so ASan sees each frame; the counter still counts them.
  const std::size_t before = fp::heap_allocations();
  REQUIRE(torsion::sync_wait(await_many(100)) == expected_sum(100));
  // One frame per awaited task (200) plus the outer task and sync_wait's driver.
  CHECK(fp::heap_allocations() == before + 202);
  void* p = fp::allocate(100);
  fp::deallocate(p, 100);
  CHECK(fp::heap_allocations() == before + 203);
  WARN("frame_pool reuse tests skipped: TORSION_NO_FRAME_POOL is defined");
}

#endif
