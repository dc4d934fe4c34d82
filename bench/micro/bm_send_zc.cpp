// send vs send_zc: the measurement behind Torsion's decision on IORING_OP_SEND_ZC (issue 7).
// Raw liburing on a ring set up like the proactor's (SINGLE_ISSUER | DEFER_TASKRUN), so that only
// the two opcodes differ. One iteration: one send (or send_zc) of SIZE bytes over a loopback TCP
// connection, waiting for its result, then a blocking MSG_WAITALL recv of those bytes on the peer
// so the socket never fills. A send_zc's notification (its buffer is free again) comes only once
// TCP has the data acknowledged; those are reaped as they arrive. The recv is the same in both
// rows: compare the rows at equal size. zc_copied_per_op is the share of zero-copy sends the kernel
// reported as copied after all (IORING_SEND_ZC_REPORT_USAGE); on loopback that is every one.
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <vector>

#include "alloc_counter.hpp"

#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

namespace {

struct loopback_pair {
  int client = -1;
  int server = -1;
  loopback_pair() {
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (l < 0 || ::bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(l, 1) != 0 ||
        ::getsockname(l, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
      if (l >= 0) ::close(l);
      return;
    }
    client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) server = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(l);
    const int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~loopback_pair() {
    if (client >= 0) ::close(client);
    if (server >= 0) ::close(server);
  }
  bool ok() const { return client >= 0 && server >= 0; }
};

void send_benchmark(benchmark::State& st, bool zero_copy) {
  const auto size = static_cast<std::size_t>(st.range(0));
  io_uring ring{};
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (io_uring_queue_init_params(64, &ring, &params) != 0) {
    st.SkipWithError("io_uring setup failed");
    return;
  }
  loopback_pair p;
  if (!p.ok()) {
    st.SkipWithError("loopback connection failed");
    io_uring_queue_exit(&ring);
    return;
  }
  std::vector<char> out(size, 'z'), in(size);
  std::uint64_t copied = 0, notified = 0;
  bool failed = false;
  auto reap = [&](bool wait_for_result) {
    // Until the send's result has arrived when asked to; notifications are counted as they come.
    for (bool have_result = !wait_for_result;;) {
      io_uring_cqe* cqe = nullptr;
      if (have_result ? io_uring_peek_cqe(&ring, &cqe) != 0 : io_uring_wait_cqe(&ring, &cqe) != 0) return;
      if (cqe->flags & IORING_CQE_F_NOTIF) {
        ++notified;
        if (static_cast<std::uint32_t>(cqe->res) & IORING_NOTIF_USAGE_ZC_COPIED) ++copied;
      } else {
        have_result = true;
        if (cqe->res != static_cast<int>(size)) failed = true;
      }
      io_uring_cqe_seen(&ring, cqe);
    }
  };
  for (auto _ : st) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (zero_copy) io_uring_prep_send_zc(sqe, p.client, out.data(), size, MSG_NOSIGNAL, IORING_SEND_ZC_REPORT_USAGE);
    else io_uring_prep_send(sqe, p.client, out.data(), size, MSG_NOSIGNAL);
    io_uring_submit_and_wait(&ring, 1);
    reap(true);
    // The peer reads, so TCP acknowledges; a zero-copy send's notification (its buffer is free
    // again) comes only once the data is acknowledged, and is reaped on a later iteration. The
    // buffer is never written, so reusing it before then is harmless here.
    if (failed || ::recv(p.server, in.data(), size, MSG_WAITALL) != static_cast<ssize_t>(size)) {
      st.SkipWithError("send failed");
      break;
    }
  }
  // Collect the outstanding notifications before the ring goes.
  const auto sent = static_cast<std::uint64_t>(st.iterations());
  for (int i = 0; zero_copy && !failed && notified < sent && i < 1000; ++i) {
    __kernel_timespec ts{.tv_sec = 0, .tv_nsec = 1'000'000};
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0) reap(false);
  }
  io_uring_queue_exit(&ring);
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * size));
  if (zero_copy) st.counters["zc_copied_per_op"] = notified ? static_cast<double>(copied) / static_cast<double>(notified) : 0.0;
}

void BM_send(benchmark::State& st) { send_benchmark(st, false); }
void BM_send_zc(benchmark::State& st) { send_benchmark(st, true); }
BENCHMARK(BM_send)->Arg(64)->Arg(4096)->Arg(65536)->MinTime(torsion_bench::min_time)->UseRealTime();
BENCHMARK(BM_send_zc)->Arg(64)->Arg(4096)->Arg(65536)->MinTime(torsion_bench::min_time)->UseRealTime();

}  // namespace
