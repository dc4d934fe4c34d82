#pragma once
// Heap-allocation counting for the micro-benchmarks. alloc_counter.cpp replaces the global operator
// new/delete (every form) with malloc-backed versions that bump a per-thread counter, so a
// benchmark can report how many times its measured region went to the heap. The counter is
// thread-local: the benchmarks are single-threaded (one proactor on the benchmark's own thread),
// and Google Benchmark's own bookkeeping outside the measured region is not counted because the
// probe only looks at the difference across that region.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "torsion/core/frame_pool.hpp"
#include "torsion/io/proactor.hpp"

namespace torsion_bench {

// Calls of any global operator new on this thread since start.
std::uint64_t heap_allocations() noexcept;
// Calls of any global operator delete with a non-null pointer on this thread since start.
std::uint64_t heap_frees() noexcept;

// Brackets a measured region (start() right before the state loop, stop() right after it) and
// reports, per iteration, the global operator new calls and the frame pool's misses (frames it had
// to take from the heap; those are also counted in the first number). Given a proactor it also
// reports its io_uring_enter calls (submit_calls) per iteration.
class alloc_probe {
 public:
  explicit alloc_probe(const torsion::proactor* px = nullptr) noexcept : px_(px) {}
  void start() noexcept {
    allocs_ = heap_allocations();
    pool_misses_ = torsion::frame_pool::heap_allocations();
    enters_ = px_ ? px_->submit_calls() : 0;
  }
  void stop() noexcept {
    allocs_ = heap_allocations() - allocs_;
    pool_misses_ = torsion::frame_pool::heap_allocations() - pool_misses_;
    enters_ = px_ ? px_->submit_calls() - enters_ : 0;
  }
  // `per` names the unit of one iteration: allocs_per_<per>, frame_pool_misses_per_<per>.
  void report(benchmark::State& st, const std::string& per = "op") const {
    st.counters["allocs_per_" + per] = benchmark::Counter(static_cast<double>(allocs_), benchmark::Counter::kAvgIterations);
    st.counters["frame_pool_misses_per_" + per] =
        benchmark::Counter(static_cast<double>(pool_misses_), benchmark::Counter::kAvgIterations);
    if (px_)
      st.counters["enters_per_" + per] =
          benchmark::Counter(static_cast<double>(enters_), benchmark::Counter::kAvgIterations);
  }
  std::uint64_t allocations() const noexcept { return allocs_; }

 private:
  const torsion::proactor* px_;
  std::uint64_t allocs_ = 0;
  std::uint64_t pool_misses_ = 0;
  std::uint64_t enters_ = 0;
};

// Every benchmark runs for a bounded time: long enough for a stable estimate, short enough that the
// whole binary with --benchmark_repetitions=3 finishes well within a minute.
inline constexpr double min_time = 0.2;

}  // namespace torsion_bench
