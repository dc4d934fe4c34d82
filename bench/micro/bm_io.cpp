// io/: the cost of one trip through the ring.
#include <benchmark/benchmark.h>

#include <torsion/core/task.hpp>
#include <torsion/core/when_all.hpp>
#include <torsion/io/ops.hpp>
#include <torsion/io/proactor.hpp>
#include <vector>

#include "alloc_counter.hpp"

namespace {

using torsion::task;

task<void> nops(int n) {
  for (int i = 0; i < n; ++i) (void)co_await torsion::nop();
}

// The whole state loop runs inside one px.run(): each iteration awaits one IORING_OP_NOP, so it
// pays slot acquisition, SQE preparation, one io_uring_enter (submit and wait), reaping the CQE,
// dispatch and the resumption of the coroutine.
task<void> nop_loop(benchmark::State& st, torsion_bench::alloc_probe& probe) {
  probe.start();
  for (auto _ : st) {
    auto r = co_await torsion::nop();
    if (!r) {
      st.SkipWithError("nop failed");
      break;
    }
  }
  probe.stop();
}

void BM_nop_round_trip(benchmark::State& st) {
  torsion::proactor px;
  px.run(nops(1000));  // warm-up
  torsion_bench::alloc_probe probe(&px);
  px.run(nop_loop(st, probe));
  st.SetItemsProcessed(st.iterations());
  probe.report(st);
}
BENCHMARK(BM_nop_round_trip)->MinTime(torsion_bench::min_time)->UseRealTime();

// For comparison with the above: the same NOPs, but `width` of them in flight at once (when_all of
// `width` tasks each awaiting one), so one io_uring_enter carries the whole batch. Items are NOPs.
task<void> one_nop() { (void)co_await torsion::nop(); }

task<void> nop_batch_loop(benchmark::State& st, int width, torsion_bench::alloc_probe& probe) {
  probe.start();
  for (auto _ : st) {
    std::vector<task<void>> batch;  // when_all takes the vector by value, so one is built per call
    batch.reserve(static_cast<std::size_t>(width));
    for (int i = 0; i < width; ++i) batch.push_back(one_nop());
    co_await torsion::when_all(std::move(batch));
  }
  probe.stop();
}

void BM_nop_batch(benchmark::State& st) {
  const int width = static_cast<int>(st.range(0));
  torsion::proactor px;
  px.run(nops(1000));
  torsion_bench::alloc_probe probe(&px);
  px.run(nop_batch_loop(st, width, probe));
  st.SetItemsProcessed(st.iterations() * width);
  probe.report(st, "batch");
}
BENCHMARK(BM_nop_batch)->Arg(64)->MinTime(torsion_bench::min_time)->UseRealTime();

}  // namespace
