// connect/: the pure arithmetic of the reconnect engine, called once per failed attempt.
#include <benchmark/benchmark.h>

#include <torsion/connect/backoff_policy.hpp>
#include <torsion/connect/connector.hpp>
#include <torsion/connect/retry_engine.hpp>
#include <torsion/time/virtual_clock.hpp>
#include <torsion/connect/random_source.hpp>

#include "alloc_counter.hpp"

namespace {

// One next_delay() through the backoff_policy interface (a virtual call, as the retry loop makes
// it) with CPython's generator. Neither policy is reset, so after a handful of steps both sit at
// their ceiling and draw a jittered delay there: the steady state of a client that keeps failing.
// The cost is dominated by one normalvariate (about 1.37 rejection rounds on average, each two
// random() calls of two MT19937 outputs and a log), plus a llround to nanoseconds.
template <class Policy>
void backoff_steps(benchmark::State& st) {
  torsion::python_random rng(42);
  Policy policy;
  torsion::backoff_policy& p = policy;
  const torsion::clock_source::time_point now{};
  torsion_bench::alloc_probe probe;
  probe.start();
  for (auto _ : st) {
    auto d = p.next_delay(rng, now);
    benchmark::DoNotOptimize(d);
  }
  probe.stop();
  st.SetItemsProcessed(st.iterations());
  probe.report(st);
}

void BM_backoff_step_twisted(benchmark::State& st) { backoff_steps<torsion::twisted_backoff>(st); }
BENCHMARK(BM_backoff_step_twisted)->MinTime(torsion_bench::min_time);

void BM_backoff_step_bounded(benchmark::State& st) { backoff_steps<torsion::bounded_backoff>(st); }
BENCHMARK(BM_backoff_step_bounded)->MinTime(torsion_bench::min_time);

// random.normalvariate(0, 1), bit-exact with CPython.
void BM_python_random_normal(benchmark::State& st) {
  torsion::python_random rng(42);
  for (auto _ : st) benchmark::DoNotOptimize(rng.normal(0.0, 1.0));
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_python_random_normal)->MinTime(torsion_bench::min_time);

// random.random(): the building block of the above (two MT19937 outputs, 53 bits).
void BM_python_random_uniform01(benchmark::State& st) {
  torsion::python_random rng(42);
  for (auto _ : st) benchmark::DoNotOptimize(rng.uniform01());
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_python_random_uniform01)->MinTime(torsion_bench::min_time);

// The engine's whole per-attempt bookkeeping after a failure, without the attempt itself: one
// retry_engine::connection_failed() = policy step + replacing the pending retry timer + the retry
// event delivered to an observer. Compare with BM_loopback_connect (bm_net.cpp), the cost of the
// attempt it schedules. A virtual clock keeps timers from firing, so only the bookkeeping is timed.
struct idle_listener final : torsion::connector::listener {
  void connection_failed(torsion::connector&, std::error_code) override {}
  void connection_made(torsion::connector&, torsion::tcp_stream) override {}
  void connection_lost(torsion::connector&, std::error_code) override {}
  void close_requested(torsion::connector&) override {}
};

void BM_retry_engine_failure_bookkeeping(benchmark::State& st) {
  torsion::virtual_clock clk;
  torsion::python_random rng(42);
  idle_listener owner;
  torsion::connector conn("127.0.0.1", 9, {}, owner, clk);
  std::uint64_t events = 0;
  conn.set_observer([&events](const torsion::connector_event&) { ++events; });
  torsion::retry_engine engine(std::make_unique<torsion::twisted_backoff>(), clk, rng);
  torsion_bench::alloc_probe probe;
  probe.start();
  for (auto _ : st) engine.connection_failed(conn);
  probe.stop();
  benchmark::DoNotOptimize(events);
  st.SetItemsProcessed(st.iterations());
  probe.report(st);
}
BENCHMARK(BM_retry_engine_failure_bookkeeping)->MinTime(torsion_bench::min_time);

}  // namespace
