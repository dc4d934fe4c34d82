#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <thread>
#include <torsion/torsion.hpp>
#include <vector>

#include "support/loopback.hpp"

using namespace torsion;
using namespace std::chrono_literals;

namespace {

task<result<std::size_t>> recv_into(proactor& px, int fd, std::span<std::byte> buf) {
  co_return co_await io_op<ops::recv>(px, fd, buf);
}

// Runs `body` in a forked child whose io_uring_setup fails with `err` (seccomp), and returns the
// error code value proactor::create() reported there (or -1 if it did not fail).
int create_error_under_seccomp(int err) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<unsigned>(err) & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(200);
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) ::_exit(201);
    auto px = proactor::create();
    if (px) ::_exit(202);
    const bool right_category = &px.error().category() == &torsion_category();
    ::_exit(right_category ? px.error().value() : 203);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("proactor starts with the fastest flags this kernel accepts", "[io]") {
  proactor px;
  const auto& f = px.features();
  CHECK(f.cq_entries >= 2 * f.sq_entries);
  // Half the operations' share of the CQ; the rest is headroom and one entry per receive buffer.
  CHECK(px.capacity() == 32768 / 2);  // the default: 16384 reads may be pending at once
  CHECK(2 * px.capacity() + px.config().recv_buffers <= f.cq_entries);
  // Linux 6.1+ (CI and development machines) accepts DEFER_TASKRUN; older kernels fall back.
  if (f.defer_taskrun) CHECK(f.single_issuer);
  CHECK((f.defer_taskrun || f.coop_taskrun || f.setup_flags != 0));
}

TEST_CASE("a nop makes a real round trip through the ring", "[io]") {
  proactor px;
  auto r = px.run([](proactor& p) -> task<result<void>> { co_return co_await nop(p); }(px));
  CHECK(r);
  CHECK(px.in_flight() == 0);
}

TEST_CASE("io_uring set-up failures name their cause and fix", "[io]") {
  CHECK(create_error_under_seccomp(EPERM) == static_cast<int>(errc::io_uring_disabled));
  CHECK(create_error_under_seccomp(ENOSYS) == static_cast<int>(errc::io_uring_unsupported));
  CHECK(create_error_under_seccomp(ENOMEM) == static_cast<int>(errc::io_uring_memlock));
  CHECK_THAT(make_error_code(errc::io_uring_disabled).message(), Catch::Contains("kernel.io_uring_disabled"));
  CHECK_THAT(make_error_code(errc::io_uring_disabled).message(), Catch::Contains("seccomp"));
  CHECK_THAT(make_error_code(errc::io_uring_memlock).message(), Catch::Contains("RLIMIT_MEMLOCK"));
}

TEST_CASE("cancelling a pending recv reports operation_canceled", "[io]") {
  proactor px;
  auto pair = torsion_test::tcp_pair();
  std::array<std::byte, 16> buf{};
  auto r = px.run([](proactor& p, int fd, std::span<std::byte> b) -> task<result<std::size_t>> {
    std::stop_source src;
    auto tok = src.get_token();
    task_group g(tok);
    result<std::size_t> out = failure(errc::invalid_state);
    g.spawn([](proactor& p, int fd, std::span<std::byte> b, result<std::size_t>& out) -> task<void> {
      out = co_await recv_into(p, fd, b);
    }(p, fd, b, out));
    (void)co_await nop(p);  // the recv is now in the kernel, waiting for data that never comes
    CHECK(p.in_flight() == 1);
    src.request_stop();
    co_await g.join();
    co_return out;
  }(px, pair.a, buf));
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::operation_canceled);
  CHECK(px.in_flight() == 0);
}

TEST_CASE("a recv that completes before its cancel delivers its bytes", "[io]") {
  proactor px;
  auto pair = torsion_test::tcp_pair();
  REQUIRE(::write(pair.b, "hello", 5) == 5);
  std::array<std::byte, 16> buf{};
  auto r = px.run([](proactor& p, int fd, std::span<std::byte> b) -> task<result<std::size_t>> {
    task_group g;
    result<std::size_t> out = failure(errc::invalid_state);
    g.spawn([](proactor& p, int fd, std::span<std::byte> b, result<std::size_t>& out) -> task<void> {
      out = co_await recv_into(p, fd, b);
    }(p, fd, b, out));
    // The recv SQE is queued, not yet submitted; the cancel lands behind it in the same batch,
    // after the recv has already completed with the waiting bytes.
    g.request_stop();
    co_await g.join();
    co_return out;
  }(px, pair.a, buf));
  REQUIRE(r);
  CHECK(r.value() == 5);
  CHECK(std::memcmp(buf.data(), "hello", 5) == 0);
}

TEST_CASE("far more operations than the CQ holds all complete - without exceeding capacity", "[io]") {
  proactor px(proactor_config{.sq_entries = 8, .cq_entries = 16});
  REQUIRE(px.capacity() == 8);
  constexpr int pairs = 64;
  std::vector<torsion_test::fd_pair> socks;
  for (int i = 0; i < pairs; ++i) socks.push_back(torsion_test::tcp_pair());
  std::vector<std::array<std::byte, 8>> bufs(pairs);
  std::size_t max_in_flight = 0, max_waiting = 0;

  auto r = px.run([&]() -> task<int> {
    std::vector<task<result<std::size_t>>> reads;
    for (int i = 0; i < pairs; ++i) reads.push_back(recv_into(px, socks[i].a, bufs[i]));
    std::vector<task<result<void>>> nops;
    for (int i = 0; i < 2000; ++i) nops.push_back([](proactor& p) -> task<result<void>> { co_return co_await nop(p); }(px));
    task_group g;
    int ok = 0;
    g.spawn([](std::vector<task<result<std::size_t>>> rs, int& ok) -> task<void> {
      for (auto& r : co_await when_all(std::move(rs))) ok += r && r.value() == 1;
    }(std::move(reads), ok));
    g.spawn([](std::vector<task<result<void>>> ns, int& ok) -> task<void> {
      for (auto& r : co_await when_all(std::move(ns))) ok += static_cast<bool>(r);
    }(std::move(nops), ok));
    // Feed the readers only after the queue has built up behind the capacity limit.
    for (int turn = 0; turn < 4; ++turn) {
      max_in_flight = std::max(max_in_flight, px.in_flight());
      max_waiting = std::max(max_waiting, px.waiting_for_capacity());
      (void)co_await sleep_for(1ms);
    }
    for (int i = 0; i < pairs; ++i) REQUIRE(::write(socks[i].b, "x", 1) == 1);
    co_await g.join();
    co_return ok;
  }());
  CHECK(r == pairs + 2000);
  CHECK(max_in_flight <= px.capacity());
  CHECK(max_waiting > 0);
  CHECK(px.in_flight() == 0);
  CHECK(px.waiting_for_capacity() == 0);
}

namespace {
task<void> reader_with_buffer_in_frame(proactor& px, int fd, bool& finished) {
  std::array<std::byte, 4096> buf{};  // lives in the frame: the kernel must be done with it first
  auto r = co_await io_op<ops::recv>(px, fd, buf);
  (void)r;
  finished = true;
}
}  // namespace

TEST_CASE("destroying a task while its recv is in flight is safe", "[io]") {
  const bool force_async = GENERATE(false, true);
  INFO("force_async_abandon=" << force_async);
  proactor px(proactor_config{.force_async_abandon = force_async});
  auto pair = torsion_test::tcp_pair();
  bool finished = false;
  {
    auto t = reader_with_buffer_in_frame(px, pair.a, finished);
    t.handle().resume();  // runs up to the recv, which is queued
    px.flush_submissions();
    CHECK(px.in_flight() == 1);
  }  // frame destroyed here, recv still pending in the kernel
  CHECK_FALSE(finished);
  // Data arriving now must not be written into the freed frame (ASan would see the corruption
  // only indirectly; the slot keeps the op alive and the cancel has completed).
  REQUIRE(::write(pair.b, "late data", 9) == 9);
  px.run([](proactor& p) -> task<void> {
    for (int i = 0; i < 5; ++i) (void)co_await nop(p);
  }(px));
  CHECK(px.in_flight() == 0);
  CHECK(px.stale_cqes() == 0);
  // The bytes were not consumed by the cancelled recv: they are still readable.
  char got[16] = {};
  CHECK(::recv(pair.a, got, sizeof got, MSG_DONTWAIT) == 9);
}

TEST_CASE("a linked timeout ends an operation with timed_out", "[io]") {
  proactor px;
  auto pair = torsion_test::tcp_pair();
  std::array<std::byte, 8> buf{};
  const auto t0 = std::chrono::steady_clock::now();
  auto r = px.run([](proactor& p, int fd, std::span<std::byte> b) -> task<result<std::size_t>> {
    co_return co_await with_timeout(io_op<ops::recv>(p, fd, b), 30ms);
  }(px, pair.a, buf));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::timed_out);
  CHECK(elapsed >= 30ms);
  CHECK(elapsed < 2s);
  CHECK(px.in_flight() == 0);
}

TEST_CASE("an operation that beats its linked timeout succeeds", "[io]") {
  proactor px;
  auto pair = torsion_test::tcp_pair();
  REQUIRE(::write(pair.b, "ok", 2) == 2);
  std::array<std::byte, 8> buf{};
  auto r = px.run([](proactor& p, int fd, std::span<std::byte> b) -> task<result<std::size_t>> {
    co_return co_await with_timeout(io_op<ops::recv>(p, fd, b), 5s);
  }(px, pair.a, buf));
  REQUIRE(r);
  CHECK(r.value() == 2);
}

TEST_CASE("post_from_any_thread runs every job on the proactor's thread", "[io][threaded]") {
  proactor px;
  constexpr int threads = 4, per_thread = 500;
  int ran = 0;  // touched only on the proactor thread
  bool all_on_owner = true;
  std::vector<std::thread> posters;
  px.add_external_work();  // the loop must wait for the posters, not report a deadlock
  for (int t = 0; t < threads; ++t)
    posters.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i)
        px.post_from_any_thread([&] {
          ++ran;
          all_on_owner = all_on_owner && px.on_owner_thread();
        });
    });
  for (auto& t : posters) t.join();
  px.post_from_any_thread([&] { px.remove_external_work(); });
  px.run([](int& ran) -> task<void> {
    while (ran < threads * per_thread) (void)co_await nop();
  }(ran));
  CHECK(ran == threads * per_thread);
  CHECK(all_on_owner);
}

TEST_CASE("closing a socket cancels the operations pending on it", "[io]") {
  proactor px;
  auto pair = torsion_test::tcp_pair();
  auto r = px.run([](proactor& p, int fd) -> task<result<std::size_t>> {
    tcp_stream s(fd, p);
    std::array<std::byte, 8> buf{};
    result<std::size_t> out = failure(errc::invalid_state);
    task_group g;
    g.spawn([](tcp_stream& s, std::span<std::byte> b, result<std::size_t>& out) -> task<void> {
      out = co_await s.read_some(b);
    }(s, buf, out));
    (void)co_await nop(p);
    CHECK(s.close());
    co_await g.join();
    co_return out;
  }(px, pair.release_a()));
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::operation_canceled);
}

TEST_CASE("the proactor knows when nothing is pending on a socket - so close skips the cancel", "[io]") {
  proactor px;
  auto pair = torsion_test::tcp_pair();
  tcp_stream s(pair.release_a(), px);
  px.run([](tcp_stream& s, int peer, proactor& px) -> task<void> {
    CHECK_FALSE(px.has_ops_on(s.native_handle()));
    std::array<std::byte, 8> buf{};
    task_group g;
    g.spawn([](tcp_stream& s, std::span<std::byte> buf) -> task<void> {
      auto n = co_await s.read_some(buf);
      CHECK(n);
    }(s, buf));
    (void)co_await nop();
    CHECK(px.has_ops_on(s.native_handle()));
    REQUIRE(::write(peer, "x", 1) == 1);
    co_await g.join();
    CHECK_FALSE(px.has_ops_on(s.native_handle()));
  }(s, pair.b, px));
}

TEST_CASE("operations started in one loop turn share one io_uring_enter", "[io]") {
  proactor px;
  px.run([]() -> task<void> { (void)co_await nop(); }());  // warm up: slots, frames
  const auto before = px.submit_calls();
  px.run([]() -> task<void> {
    std::vector<task<void>> batch;
    for (int i = 0; i < 64; ++i) batch.push_back([]() -> task<void> { (void)co_await nop(); }());
    co_await when_all(std::move(batch));
  }());
  // All 64 SQEs go in with the loop turn's one submit-and-wait; the turn that resumes the parent
  // may take one more.
  CHECK(px.submit_calls() - before <= 2);
}

TEST_CASE("signal_set delivers a signal as a value", "[io]") {
  proactor px;
  auto r = px.run([]() -> task<result<int>> {
    signal_set sigs{SIGUSR1};
    ::kill(::getpid(), SIGUSR1);
    co_return co_await sigs.wait();
  }());
  REQUIRE(r);
  CHECK(r.value() == SIGUSR1);
}
