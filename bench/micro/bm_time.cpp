// time/: timer bookkeeping on the real clock (never firing) and on the virtual clock (always firing).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <torsion/io/proactor.hpp>
#include <torsion/time/real_clock.hpp>
#include <torsion/time/virtual_clock.hpp>
#include <vector>

#include "alloc_counter.hpp"

namespace {

using namespace std::chrono_literals;

void never_fires(torsion::timer_entry&) {}

// real_clock::now() alone (steady_clock through the vDSO), to attribute the cost below.
void BM_real_clock_now(benchmark::State& st) {
  torsion::proactor px;
  torsion::real_clock& clk = px.use_service<torsion::real_clock>();
  for (auto _ : st) benchmark::DoNotOptimize(clk.now());
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_real_clock_now)->MinTime(torsion_bench::min_time);

// schedule + cancel of one timer due in an hour on the proactor's real clock, as a with_timeout or
// sleep_for that finishes early does: now(), a heap push and erase, and the external-work
// bookkeeping. Arg: timers already pending, all due before the new one (the usual case when every
// connection uses the same timeout: the new timer is the latest, so push and erase stay at the
// bottom of the heap). The kernel timeout is armed for the earliest timer once, before the
// measurement; the new timer is never earlier, so no SQE is produced in steady state.
void BM_timer_schedule_cancel(benchmark::State& st) {
  torsion::proactor px;
  torsion::real_clock& clk = px.use_service<torsion::real_clock>();
  std::vector<torsion::timer_entry> background(static_cast<std::size_t>(st.range(0)));
  const auto base = clk.now();
  for (std::size_t i = 0; i < background.size(); ++i) {
    background[i].deadline = base + 30min + std::chrono::milliseconds(i);
    background[i].fire = &never_fires;
    clk.schedule(background[i]);
  }
  torsion::timer_entry e;
  e.fire = &never_fires;
  e.deadline = clk.now() + 1h;  // warm-up: arm the kernel timeout, grow the heap's vector
  clk.schedule(e);
  clk.cancel(e);
  torsion_bench::alloc_probe probe;
  probe.start();
  for (auto _ : st) {
    e.deadline = clk.now() + 1h;
    clk.schedule(e);
    clk.cancel(e);
  }
  probe.stop();
  for (auto& b : background) clk.cancel(b);
  st.SetItemsProcessed(st.iterations());
  probe.report(st);
}
BENCHMARK(BM_timer_schedule_cancel)->Arg(0)->Arg(1024)->MinTime(torsion_bench::min_time);

struct counting_entry : torsion::timer_entry {
  std::uint64_t fired = 0;
};

void count_fire(torsion::timer_entry& e) { ++static_cast<counting_entry&>(e).fired; }

// schedule + advance-until-fired on a virtual clock: a heap push, pop and the fire callback, the
// loop a test under virtual time runs for every timer. Arg: timers already pending, all due a day
// later, so here the new timer is the earliest: push and pop walk the whole height of the heap
// (the worst case).
void BM_virtual_timer_schedule_fire(benchmark::State& st) {
  torsion::virtual_clock vc;
  std::vector<torsion::timer_entry> background(static_cast<std::size_t>(st.range(0)));
  for (std::size_t i = 0; i < background.size(); ++i) {
    background[i].deadline = vc.now() + 24h + std::chrono::milliseconds(i);
    background[i].fire = &never_fires;
    vc.schedule(background[i]);
  }
  counting_entry e;
  e.fire = &count_fire;
  e.deadline = vc.now() + 1ns;  // warm-up: grow the heap's vector
  vc.schedule(e);
  vc.advance(1ns);
  e.fired = 0;
  torsion_bench::alloc_probe probe;
  probe.start();
  for (auto _ : st) {
    e.deadline = vc.now() + 1ns;
    vc.schedule(e);
    vc.advance(1ns);
  }
  probe.stop();
  for (auto& b : background) vc.cancel(b);
  if (e.fired != static_cast<std::uint64_t>(st.iterations())) st.SkipWithError("a virtual timer did not fire");
  st.SetItemsProcessed(st.iterations());
  probe.report(st);
}
BENCHMARK(BM_virtual_timer_schedule_fire)->Arg(0)->Arg(1024)->MinTime(torsion_bench::min_time);

}  // namespace
