// A peer that never reads, while a coroutine wants to write 200 MiB to it. Once the kernel's socket
// buffers are full the writer's write_all stays suspended: the process holds one chunk, not 200
// MiB, its resident memory stays flat, and everything it wrote is in the kernel queues. When the
// peer goes away, the blocked write ends with an error and nothing leaks.
#include <catch2/catch.hpp>
#include <torsion/torsion.hpp>
#include <vector>

#include "support/proc_stats.hpp"
#include "support/settle.hpp"

using namespace torsion;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t chunk = 65536;
constexpr std::size_t wanted = std::size_t{200} << 20;

struct writer_state {
  std::size_t written = 0;  // bytes of the chunks write_all finished
  bool finished = false;
  std::error_code ended;
};

task<void> firehose(tcp_stream& s, writer_state& w) {
  const std::vector<std::byte> data(chunk, std::byte{'c'});
  while (w.written < wanted) {
    auto r = co_await s.write_all(data);
    if (!r) {
      w.ended = r.error();
      break;
    }
    w.written += chunk;
  }
  w.finished = true;
}

}  // namespace

TEST_CASE(
    "a peer that never reads - the coroutine writer stays blocked - RSS flat - its error comes when the peer "
    "leaves",
    "[net][faults]") {
  proactor px;
  const int fds_before = torsion_test::open_fd_count();
  const long rss_before = torsion_test::rss_kib();
  long rss_blocked = 0, in_kernel = 0;
  bool settled = false, blocked = false;
  writer_state w;
  px.run([](writer_state& w, long& rss_blocked, long& in_kernel, bool& settled, bool& blocked) -> task<void> {
    auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
    REQUIRE(l);
    auto peer = co_await connect(l.value().local_endpoint().value());
    REQUIRE(peer);
    auto server = co_await l.value().accept();
    REQUIRE(server);
    task_group g;
    g.spawn(firehose(server.value(), w));
    // The peer never reads: wait until nothing moves any more.
    settled = co_await torsion_test::until_settled([&] { return w.written; }, 50);
    blocked = !w.finished && proactor::current()->in_flight() >= 1;  // its send is with the kernel
    rss_blocked = torsion_test::rss_kib();
    in_kernel = torsion_test::socket_outq(server.value().native_handle()) +
                torsion_test::socket_inq(peer.value().native_handle());
    // The peer leaves with a reset: the blocked write fails instead of waiting forever.
    (void)peer.value().abort();
    co_await g.join();
  }(w, rss_blocked, in_kernel, settled, blocked));

  CHECK(settled);
  CHECK(blocked);
  CHECK(w.finished);
  CHECK(w.written < wanted / 10);
  // The kernel holds every finished chunk, plus part of the one being written.
  CHECK(in_kernel >= static_cast<long>(w.written));
  CHECK(in_kernel <= static_cast<long>(w.written + chunk));
  CHECK((w.ended == std::errc::connection_reset || w.ended == std::errc::broken_pipe));
  CHECK(rss_blocked - rss_before < 8 * 1024);  // KiB
  CHECK(torsion_test::open_fd_count() == fds_before);
  WARN("coroutine: a writer wanting " << (wanted >> 20) << " MiB blocked after " << w.written << " bytes (" << in_kernel
                                      << " in the kernel queues); RSS " << rss_before << " -> " << rss_blocked
                                      << " KiB; the peer's reset ended it with: " << w.ended.message());
}
