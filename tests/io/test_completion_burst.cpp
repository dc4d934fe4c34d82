// Bursts of operations on one ring: tens of thousands of reads, writes and timers started at once
// must each complete exactly once, without the completion queue ever overflowing; ten thousand
// linked timeouts firing together must cancel their reads without a hang.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <torsion/core/yield.hpp>
#include <torsion/torsion.hpp>
#include <vector>

#include "support/loopback.hpp"
#include "support/proc_stats.hpp"

using namespace torsion;
using namespace std::chrono_literals;

namespace {

// The ring as it comes by default (a 65536-entry CQ: every operation of these bursts fits in the
// kernel at once), and a small one (1024 entries: at most 512 in flight, the rest queue for
// capacity).
proactor_config ring_config(bool small) { return small ? proactor_config{.cq_entries = 1024} : proactor_config{}; }

// Samples the kernel's overflow state and the proactor's in-flight count on every loop turn
// until `done` is set.
struct overflow_watch {
  bool done = false;
  bool overflow_seen = false;
  std::uint32_t dropped = 0;
  std::size_t max_in_flight = 0;
  std::size_t turns = 0;
};

task<void> watch(proactor& px, overflow_watch& w) {
  while (!w.done) {
    w.overflow_seen = w.overflow_seen || px.cq_overflow_pending();
    w.dropped = std::max(w.dropped, px.cq_dropped());
    w.max_in_flight = std::max(w.max_in_flight, px.in_flight());
    ++w.turns;
    co_await yield();
  }
}

std::array<std::byte, 8> tag(std::uint32_t pair, std::uint32_t dir) {
  std::array<std::byte, 8> t{};
  const std::uint64_t v = (std::uint64_t{pair} << 1 | dir) * 0x9e3779b97f4a7c15ull;
  std::memcpy(t.data(), &v, sizeof v);
  return t;
}

}  // namespace

TEST_CASE(
    "a burst of 20000 operations on one ring - reads - writes - timers - each completes once and the CQ never "
    "overflows",
    "[io][load]") {
  const bool small = GENERATE(false, true);
  INFO("small ring: " << small);
  // 2000 pairs: 4000 reads + 4000 writes on the ring, and 12000 timers beside them.
  const std::size_t pairs = 2000, timers = 12000, total = 4 * pairs + timers;
  REQUIRE(torsion_test::raise_fd_limit(4 * pairs + 256) >= 2 * pairs + 128);
  std::vector<torsion_test::fd_pair> socks;
  socks.reserve(pairs);
  for (std::uint32_t i = 0; i < pairs; ++i) {
    socks.push_back(torsion_test::tcp_pair());
    // Data already waiting in both directions, so that no read depends on a write queued behind it.
    for (std::uint32_t dir = 0; dir < 2; ++dir) {
      const auto t = tag(i, dir);
      REQUIRE(::write(dir == 0 ? socks[i].b : socks[i].a, t.data(), t.size()) == 8);
    }
  }
  proactor px(ring_config(small));
  std::vector<int> completions(total, 0);
  std::vector<int> failures(total, 0);
  overflow_watch w;
  const auto t0 = std::chrono::steady_clock::now();
  px.run([](proactor& px, std::vector<torsion_test::fd_pair>& socks, std::vector<int>& completions,
            std::vector<int>& failures, overflow_watch& w, std::size_t timers) -> task<void> {
    const std::size_t pairs = socks.size();
    task_group all;
    task_group watcher;
    watcher.spawn(watch(px, w));
    // Everything is spawned in one go, before the loop gets a turn: the burst.
    for (std::uint32_t i = 0; i < pairs; ++i) {
      for (std::uint32_t dir = 0; dir < 2; ++dir) {
        // On each socket: read the tag waiting there, and write another to the other end.
        const int fd = dir == 0 ? socks[i].a : socks[i].b;
        const std::size_t read_id = 4 * i + dir, write_id = 4 * i + 2 + dir;
        all.spawn([](proactor& px, int fd, std::array<std::byte, 8> want, int& done, int& bad) -> task<void> {
          std::array<std::byte, 8> buf{};
          auto n = co_await io_op<ops::recv>(px, fd, std::span(buf));
          ++done;
          if (!n || n.value() != 8 || buf != want) ++bad;
        }(px, fd, tag(i, dir), completions[read_id], failures[read_id]));
        all.spawn([](proactor& px, int fd, std::array<std::byte, 8> out, int& done, int& bad) -> task<void> {
          auto n = co_await io_op<ops::send>(px, fd, std::span<const std::byte>(out));
          ++done;
          if (!n || n.value() != 8) ++bad;
        }(px, fd, tag(i, dir + 2), completions[write_id], failures[write_id]));
      }
    }
    for (std::size_t k = 0; k < timers; ++k) {
      const std::size_t id = 4 * pairs + k;
      // Deadlines spread over 0..30 ms, many of them equal.
      all.spawn([](std::chrono::microseconds d, int& done, int& bad) -> task<void> {
        auto r = co_await sleep_for(d);
        ++done;
        if (!r) ++bad;
      }(std::chrono::microseconds((k * 7919) % 30000), completions[id], failures[id]));
    }
    co_await all.join();
    w.done = true;
    co_await watcher.join();
  }(px, socks, completions, failures, w, timers));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  std::size_t once = 0, bad = 0;
  for (std::size_t k = 0; k < total; ++k) {
    once += completions[k] == 1;
    bad += failures[k];
  }
  CHECK(once == total);  // each operation completed exactly once
  CHECK(bad == 0);       // ... with the right result
  CHECK_FALSE(w.overflow_seen);
  CHECK(w.dropped == 0);
  CHECK(px.cq_dropped() == 0);
  CHECK(w.max_in_flight <= px.capacity());
  CHECK(px.in_flight() == 0);
  CHECK(px.waiting_for_capacity() == 0);
  CHECK(px.stale_cqes() == 0);
  // The writes arrived: each socket now holds exactly the 8 bytes written to it.
  std::size_t delivered = 0;
  for (std::uint32_t i = 0; i < pairs; ++i)
    for (std::uint32_t dir = 0; dir < 2; ++dir) {
      std::array<std::byte, 16> got{};
      const int fd = dir == 0 ? socks[i].b : socks[i].a;
      delivered += ::recv(fd, got.data(), got.size(), MSG_DONTWAIT) == 8 &&
                   std::memcmp(got.data(), tag(i, dir + 2).data(), 8) == 0;
    }
  CHECK(delivered == 2 * pairs);
  WARN("burst of " << total << " operations (" << (small ? "1024" : "65536")
                   << "-entry CQ): " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
                   << " ms, max " << w.max_in_flight << " in flight of " << px.capacity());
}

TEST_CASE("10000 reads whose linked timeouts fire together all end timed_out - and nothing is left in flight",
          "[io][load]") {
  const bool small = GENERATE(false, true);
  INFO("small ring: " << small);
  // 500 idle pairs, ten reads pending on each socket: 10000 reads that no data will ever complete.
  const std::size_t pairs = 500, per_socket = 10, reads = 2 * pairs * per_socket;
  REQUIRE(torsion_test::raise_fd_limit(2 * pairs + 256) >= 2 * pairs + 64);
  std::vector<torsion_test::fd_pair> socks;
  socks.reserve(pairs);
  for (std::size_t i = 0; i < pairs; ++i) socks.push_back(torsion_test::tcp_pair());
  proactor px(ring_config(small));
  std::vector<result<std::size_t>> results(reads, failure(errc::invalid_state));
  overflow_watch w;
  const auto t0 = std::chrono::steady_clock::now();
  px.run([](proactor& px, std::vector<torsion_test::fd_pair>& socks, std::vector<result<std::size_t>>& results,
            overflow_watch& w, std::size_t per_socket) -> task<void> {
    task_group all, watcher;
    watcher.spawn(watch(px, w));
    std::size_t id = 0;
    for (auto& p : socks)
      for (int fd : {p.a, p.b})
        for (std::size_t k = 0; k < per_socket; ++k, ++id)
          all.spawn([](proactor& px, int fd, result<std::size_t>& out) -> task<void> {
            std::array<std::byte, 8> buf{};
            out = co_await with_timeout(io_op<ops::recv>(px, fd, std::span(buf)), 20ms);
          }(px, fd, results[id]));
    co_await all.join();
    w.done = true;
    co_await watcher.join();
  }(px, socks, results, w, per_socket));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  std::size_t timed_out = 0;
  for (auto& r : results) timed_out += !r && r.error() == errc::timed_out;
  CHECK(timed_out == reads);
  CHECK_FALSE(w.overflow_seen);
  CHECK(px.cq_dropped() == 0);
  CHECK(w.max_in_flight <= px.capacity());
  CHECK(px.in_flight() == 0);
  CHECK(px.waiting_for_capacity() == 0);
  // The small ring runs them in waves of capacity/2 (a read and its timeout each take a CQ entry);
  // the default one holds all of them at once. Either way: bounded.
  CHECK(elapsed < 20s);
  WARN(reads << " timed reads (" << (small ? "1024" : "65536")
             << "-entry CQ): " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms");
}
