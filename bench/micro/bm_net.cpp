// net/: whole TCP operations over loopback inside one proactor, each next to a baseline made of
// plain blocking system calls doing the same work, so the framework's own overhead can be read off.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <torsion/core/task.hpp>
#include <torsion/core/task_group.hpp>
#include <torsion/io/proactor.hpp>
#include <torsion/net/connect.hpp>
#include <torsion/net/tcp_listener.hpp>
#include <torsion/net/tcp_stream.hpp>
#include <utility>
#include <vector>

#include "alloc_counter.hpp"

namespace {

using torsion::task;

// ---- connect + accept + close

// One iteration: torsion::connect (socket(), an io_uring connect with the default 30 s linked
// timeout, the self-connect check), tcp_listener::accept (served from the multishot accept's queue
// once warm), then both streams close: the accepted one first, so TIME_WAIT sits on the server
// side and the client's ephemeral ports are not exhausted however many iterations run.
// This is the comparison point for the connector engine's per-attempt overhead.
task<void> connect_loop(benchmark::State& st, torsion::tcp_listener& l, torsion::endpoint ep, int warmup,
                        torsion_bench::alloc_probe& probe) {
  for (int i = 0; i < warmup; ++i) {
    auto c = co_await torsion::connect(ep);
    auto s = co_await l.accept();
    if (!c || !s) {
      st.SkipWithError("warm-up connect/accept failed");
      co_return;
    }
  }
  probe.start();
  for (auto _ : st) {
    auto c = co_await torsion::connect(ep);
    if (!c) {
      st.SkipWithError(("connect failed: " + c.error().message()).c_str());
      break;
    }
    auto s = co_await l.accept();
    if (!s) {
      st.SkipWithError(("accept failed: " + s.error().message()).c_str());
      break;
    }
  }  // s closes, then c
  probe.stop();
}

void BM_loopback_connect(benchmark::State& st) {
  torsion::proactor px;
  auto l = torsion::tcp_listener::listen(torsion::endpoint(torsion::ip_address::loopback_v4(), 0), {}, px);
  if (!l) {
    st.SkipWithError("listen failed");
    return;
  }
  const torsion::endpoint ep = l.value().local_endpoint().value();
  torsion_bench::alloc_probe probe(&px);
  px.run(connect_loop(st, l.value(), ep, 100, probe));
  st.SetItemsProcessed(st.iterations());
  probe.report(st);
}
BENCHMARK(BM_loopback_connect)->MinTime(torsion_bench::min_time)->UseRealTime();

int raw_listener(sockaddr_in& where) {
  const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  where = {};
  where.sin_family = AF_INET;
  where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof where;
  if (l < 0 || ::bind(l, reinterpret_cast<sockaddr*>(&where), sizeof where) != 0 || ::listen(l, 128) != 0 ||
      ::getsockname(l, reinterpret_cast<sockaddr*>(&where), &len) != 0) {
    if (l >= 0) ::close(l);
    return -1;
  }
  return l;
}

// A connected loopback pair made with blocking system calls ({-1, -1} on failure).
std::pair<int, int> raw_connection() {
  sockaddr_in where{};
  const int l = raw_listener(where);
  const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool connected = l >= 0 && c >= 0 && ::connect(c, reinterpret_cast<sockaddr*>(&where), sizeof where) == 0;
  const int s = connected ? ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC) : -1;
  if (l >= 0) ::close(l);
  if (s < 0) {
    if (c >= 0) ::close(c);
    return {-1, -1};
  }
  return {c, s};
}

// Baseline: the same connect + accept + close with blocking system calls and no ring
// (socket, connect, accept4, close, close).
void BM_loopback_connect_raw_syscalls(benchmark::State& st) {
  sockaddr_in where{};
  const int l = raw_listener(where);
  if (l < 0) {
    st.SkipWithError("listen failed");
    return;
  }
  for (auto _ : st) {
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0 || ::connect(c, reinterpret_cast<sockaddr*>(&where), sizeof where) != 0) {
      st.SkipWithError("connect failed");
      if (c >= 0) ::close(c);
      break;
    }
    const int s = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    if (s < 0) {
      st.SkipWithError("accept failed");
      ::close(c);
      break;
    }
    ::close(s);
    ::close(c);
  }
  ::close(l);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_loopback_connect_raw_syscalls)->MinTime(torsion_bench::min_time)->UseRealTime();

// ---- 64-byte echo round trip

constexpr std::size_t echo_size = 64;

task<void> echo_server(torsion::tcp_stream s) {
  std::array<std::byte, echo_size> buf{};
  for (;;) {
    auto r = co_await s.read_exactly(buf);  // connection_done when the client shuts down
    if (!r) co_return;
    auto w = co_await s.write_all(buf);
    if (!w) co_return;
  }
}

// The same server on the zero-copy path: receive() lends a ring buffer, written back from there.
task<void> echo_server_receive(torsion::tcp_stream s) {
  for (;;) {
    auto chunk = co_await s.receive();
    if (!chunk) co_return;
    auto w = co_await s.write_all(chunk.value().bytes());
    if (!w) co_return;
  }
}

// Note the style: every co_await result goes into a named variable before it is tested. GCC 12.2
// (Debian 12's compiler) miscompiles a coroutine that declares no local variable at all and has a
// co_await inside an if/while/switch condition: its body never runs and the awaiting task hangs.
// That is what `if (!co_await c.write_all(out)) co_return false;` did here.
task<bool> round_trip(torsion::tcp_stream& c, std::array<std::byte, echo_size>& out,
                      std::array<std::byte, echo_size>& in) {
  auto w = co_await c.write_all(out);
  if (!w) co_return false;
  auto r = co_await c.read_exactly(in);
  co_return static_cast<bool>(r);
}

// Client and server coroutines share one proactor: per iteration the client writes 64 bytes
// (write_all) and reads the echo (read_exactly) while the server does read_exactly + write_all.
// 1,000 round trips warm the frame pool and the slot table first; the allocation counters cover
// only the measured loop. Architecture invariant 4 wants allocs_per_rt == 0 here.
task<void> echo_client(benchmark::State& st, torsion::tcp_stream& c, torsion_bench::alloc_probe& probe) {
  std::array<std::byte, echo_size> out{};
  std::array<std::byte, echo_size> in{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::byte(static_cast<unsigned char>(i));
  for (int i = 0; i < 1000; ++i) {
    const bool ok = co_await round_trip(c, out, in);
    if (!ok) {
      st.SkipWithError("warm-up round trip failed");
      co_return;
    }
  }
  probe.start();
  for (auto _ : st) {
    auto w = co_await c.write_all(out);
    if (!w) {
      st.SkipWithError("write failed");
      break;
    }
    auto r = co_await c.read_exactly(in);
    if (!r) {
      st.SkipWithError("read failed");
      break;
    }
  }
  probe.stop();
  if (in != out) st.SkipWithError("echo corrupted the data");
}

task<void> echo_main(benchmark::State& st, torsion_bench::alloc_probe& probe,
                     task<void> (*server)(torsion::tcp_stream) = echo_server) {
  auto l = torsion::tcp_listener::listen(torsion::endpoint(torsion::ip_address::loopback_v4(), 0));
  if (!l) {
    st.SkipWithError("listen failed");
    co_return;
  }
  auto c = co_await torsion::connect(l.value().local_endpoint().value());
  auto s = co_await l.value().accept();
  if (!c || !s) {
    st.SkipWithError("connect/accept failed");
    co_return;
  }
  (void)c.value().set_no_delay(true);
  (void)s.value().set_no_delay(true);
  torsion::task_group g;
  g.spawn(server(std::move(s).value()));
  co_await echo_client(st, c.value(), probe);
  (void)c.value().shutdown_write();
  co_await g.join();
}

void BM_echo_round_trip_64B(benchmark::State& st) {
  torsion::proactor px;
  torsion_bench::alloc_probe probe(&px);
  px.run(echo_main(st, probe));
  st.SetItemsProcessed(st.iterations());
  probe.report(st, "rt");
}
BENCHMARK(BM_echo_round_trip_64B)->MinTime(torsion_bench::min_time)->UseRealTime();

void BM_echo_round_trip_64B_receive(benchmark::State& st) {
  torsion::proactor px;
  torsion_bench::alloc_probe probe(&px);
  px.run(echo_main(st, probe, echo_server_receive));
  st.SetItemsProcessed(st.iterations());
  probe.report(st, "rt");
}
BENCHMARK(BM_echo_round_trip_64B_receive)->MinTime(torsion_bench::min_time)->UseRealTime();

// Baseline: the same ping-pong on one thread with blocking send/recv and no ring (four system
// calls per round trip; loopback delivers during send, so recv never actually blocks).
void BM_echo_round_trip_64B_raw_syscalls(benchmark::State& st) {
  const auto [c, s] = raw_connection();
  if (c < 0) {
    st.SkipWithError("connect failed");
    return;
  }
  const int one = 1;
  ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::array<std::byte, echo_size> buf{};
  auto exact = [](auto io, int fd, std::byte* p, std::size_t n) {
    while (n > 0) {
      const ssize_t r = io(fd, p, n);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<std::size_t>(r);
    }
    return true;
  };
  auto send_ = [](int fd, std::byte* p, std::size_t n) { return ::send(fd, p, n, MSG_NOSIGNAL); };
  auto recv_ = [](int fd, std::byte* p, std::size_t n) { return ::recv(fd, p, n, 0); };
  for (auto _ : st) {
    if (!exact(send_, c, buf.data(), buf.size()) || !exact(recv_, s, buf.data(), buf.size()) ||
        !exact(send_, s, buf.data(), buf.size()) || !exact(recv_, c, buf.data(), buf.size())) {
      st.SkipWithError("raw echo failed");
      break;
    }
  }
  ::close(s);
  ::close(c);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_echo_round_trip_64B_raw_syscalls)->MinTime(torsion_bench::min_time)->UseRealTime();

// ---- bulk transfer: receive() with ring buffers of various sizes vs read_some into 64 KiB

constexpr std::size_t bulk_chunk = 1 << 20;

task<void> bulk_writer(torsion::tcp_stream& s, const std::vector<std::byte>& chunk, std::size_t total) {
  for (std::size_t sent = 0; sent < total; sent += chunk.size()) {
    auto w = co_await s.write_all(chunk);
    if (!w) co_return;
  }
  (void)s.shutdown_write();
}

// One iteration: 1 MiB through one loopback connection, writer and reader in one proactor.
task<void> bulk_loop(benchmark::State& st, torsion::tcp_stream& tx, torsion::tcp_stream& rx, bool use_receive) {
  const std::vector<std::byte> chunk(bulk_chunk, std::byte{7});
  const std::size_t total = bulk_chunk * 100000;  // more than any run needs; the writer is stopped
  torsion::task_group g;
  g.spawn(bulk_writer(tx, chunk, total));
  std::vector<std::byte> buf(65536);
  std::size_t pending = 0;
  for (auto _ : st) {
    pending += bulk_chunk;
    while (pending > 0) {
      std::size_t n = 0;
      if (use_receive) {
        auto b = co_await rx.receive();
        if (!b) break;
        n = b.value().size();
      } else {
        auto r = co_await rx.read_some(buf);
        if (!r || r.value() == 0) break;
        n = r.value();
      }
      pending -= std::min(pending, n);
    }
  }
  g.request_stop();
  (void)rx.close();
  co_await g.join();
}

void bulk(benchmark::State& st, bool use_receive, unsigned buffer_size, unsigned buffers) {
  torsion::proactor_config cfg;
  cfg.recv_buffer_size = buffer_size;
  cfg.recv_buffers = buffers;
  torsion::proactor px(cfg);
  const auto [c, s] = raw_connection();
  if (c < 0) {
    st.SkipWithError("connect failed");
    return;
  }
  torsion::tcp_stream tx(c, px), rx(s, px);
  px.run(bulk_loop(st, tx, rx, use_receive));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * bulk_chunk));
}

// Args: buffer size, buffer count.
void BM_bulk_receive(benchmark::State& st) {
  bulk(st, true, static_cast<unsigned>(st.range(0)), static_cast<unsigned>(st.range(1)));
}
BENCHMARK(BM_bulk_receive)
    ->Args({4096, 1024})
    ->Args({4096, 64})
    ->Args({16384, 1024})
    ->Args({16384, 64})
    ->Args({65536, 64})
    ->MinTime(torsion_bench::min_time)
    ->UseRealTime();

void BM_bulk_read_some_64KiB(benchmark::State& st) { bulk(st, false, 4096, 1024); }
BENCHMARK(BM_bulk_read_some_64KiB)->MinTime(torsion_bench::min_time)->UseRealTime();

}  // namespace
