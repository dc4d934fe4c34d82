// torsion_micro: Google Benchmark micro-benchmarks of Torsion's layers.
//
// Run:  torsion_micro [--benchmark_repetitions=3 --benchmark_report_aggregates_only=true]
//       Pin it (taskset -c 1) for steadier numbers. Each benchmark is bounded by MinTime(0.2), so
//       the whole binary finishes in well under a minute even with three repetitions.
//
// What each benchmark measures, and why:
//
// core (bm_core.cpp)
//   BM_task_create_resume       One task<int> created, awaited from a parent and destroyed; the
//                               parent loops over the benchmark state inside one sync_wait, so
//                               ns/op is the per-task cost of the lazy-task machinery (frame from
//                               the per-thread pool, two symmetric transfers, result variant).
//   BM_when_all_1000            One when_all over a vector of 1,000 trivially-completing task<int>
//                               (building the vector included); items/s counts child tasks. Shows
//                               what the structured-concurrency wrapper adds per child.
// io (bm_io.cpp)
//   BM_nop_round_trip           One co_await torsion::nop() through the real ring per iteration,
//                               the whole loop inside one px.run(): the floor under every I/O
//                               awaitable (slot, SQE, io_uring_enter, CQE, dispatch, resume).
//   BM_nop_batch/64             64 NOPs in flight at once via when_all: how much of the above is
//                               the per-enter cost that batching amortises.
// time (bm_time.cpp)
//   BM_real_clock_now           real_clock::now() alone, to attribute the next one.
//   BM_timer_schedule_cancel/N  schedule + cancel of one timer on the proactor's real clock, never
//                               firing (what every with_timeout / sleep_for that ends early pays),
//                               with N other timers pending, all due earlier (the usual case).
//   BM_virtual_timer_schedule_fire/N
//                               schedule + advance-until-fired on a virtual clock: the unit of work
//                               of every test under virtual time; N timers pending, all due later
//                               (the worst case for the heap).
// connect (bm_connect.cpp)
//   BM_backoff_step_twisted     One next_delay() of Twisted's ReconnectingClientFactory arithmetic,
//   BM_backoff_step_bounded     and of the bounded policy, with the CPython-exact generator.
//   BM_python_random_normal     random.normalvariate(), the bulk of a backoff step;
//   BM_python_random_uniform01  random.random(), its building block.
// net (bm_net.cpp)
//   BM_loopback_connect         One full torsion::connect to a 127.0.0.1 listener + accept +
//                               close of both ends: the comparison point for the connector
//                               engine's per-attempt overhead.
//   BM_echo_round_trip_64B      64-byte ping-pong over one loopback connection, client and server
//                               coroutines on one proactor; per round trip. allocs_per_rt checks
//                               architecture invariant 4 (no allocation per operation in steady
//                               state) after a 1,000-round-trip warm-up.
//   BM_echo_round_trip_64B_receive
//                               The same with the server on receive() (multishot recv into the
//                               proactor's buffer ring, written back from the lent buffer).
//   BM_bulk_receive/SIZE/COUNT  1 MiB per iteration through one loopback connection, read with
//                               receive() from a ring of COUNT buffers of SIZE bytes: the cost
//                               of one completion per buffer, which sets the default buffer size.
//   BM_bulk_read_some_64KiB     The same read with read_some into one 64 KiB buffer.
//   *_raw_syscalls              The same two network benchmarks with plain blocking system calls
//                               and no ring, as a baseline for the framework's overhead.
//
// styles (bm_styles.cpp)
//   BM_echo_style_coro/_callback
//                               64-byte ping-pong against examples/echo_server.cpp's coroutine
//                               server and against Twisted's Echo protocol behind a Reactor.
// send_zc (bm_send_zc.cpp)
//   BM_send/SIZE, BM_send_zc/SIZE
//                               One IORING_OP_SEND vs one IORING_OP_SEND_ZC (result and
//                               notification) of SIZE bytes over loopback, plus the peer's recv;
//                               raw liburing, the measurement behind the send_zc decision.
//
// Counters (all per iteration, measured region only):
//   allocs_per_*                calls of any global operator new (alloc_counter.cpp replaces them
//                               with counting versions);
//   frame_pool_misses_per_*     coroutine frames the frame pool had to take from the heap;
//   enters_per_*                the proactor's io_uring_enter calls (submit_calls()).
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
