// core/: the cost of the task machinery itself, with no I/O and no proactor.
#include <benchmark/benchmark.h>

#include <torsion/core/sync_wait.hpp>
#include <torsion/core/task.hpp>
#include <torsion/core/when_all.hpp>
#include <vector>

#include "alloc_counter.hpp"

namespace {

using torsion::task;

task<int> leaf(int v) { co_return v; }

// The parent: one child task created, awaited (symmetric transfer in, symmetric transfer back out
// at final_suspend) and destroyed per benchmark iteration. The state loop runs inside the
// coroutine, so N is Google Benchmark's iteration count.
task<long> await_loop(benchmark::State& st) {
  long sum = 0;
  int i = 0;
  for (auto _ : st) {
    sum += co_await leaf(i++);
  }
  co_return sum;
}

task<long> await_n(int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await leaf(i);
  co_return sum;
}

void BM_task_create_resume(benchmark::State& st) {
  benchmark::DoNotOptimize(torsion::sync_wait(await_n(1000)));  // warm the frame pool
  torsion_bench::alloc_probe probe;
  probe.start();
  const long sum = torsion::sync_wait(await_loop(st));
  probe.stop();
  benchmark::DoNotOptimize(sum);
  st.SetItemsProcessed(st.iterations());
  probe.report(st, "task");
}
BENCHMARK(BM_task_create_resume)->MinTime(torsion_bench::min_time);

constexpr int when_all_width = 1000;

task<int> trivial(int v) { co_return v; }

std::vector<int> one_when_all() {
  std::vector<task<int>> tasks;
  tasks.reserve(when_all_width);
  for (int i = 0; i < when_all_width; ++i) tasks.push_back(trivial(i));
  return torsion::sync_wait(torsion::when_all(std::move(tasks)));
}

// when_all over a vector of 1,000 children that complete at once: building the vector of tasks,
// starting each child (each runs inside a stop_siblings_on_error wrapper inside a spawned
// run_into frame), joining, and collecting the results into a vector.
void BM_when_all_1000(benchmark::State& st) {
  benchmark::DoNotOptimize(one_when_all().data());  // warm the frame pool
  torsion_bench::alloc_probe probe;
  probe.start();
  for (auto _ : st) {
    auto out = one_when_all();
    benchmark::DoNotOptimize(out.data());
  }
  probe.stop();
  st.SetItemsProcessed(st.iterations() * when_all_width);
  probe.report(st, "call");
}
BENCHMARK(BM_when_all_1000)->MinTime(torsion_bench::min_time);

}  // namespace
