// A peer that never reads, while a push producer on the server side wants to send 200 MiB. The
// kernel's socket buffers fill, the transport's buffer reaches the high-water mark, the producer is
// paused and stays paused: the transport never holds more than the mark plus one chunk, every byte
// produced is in the kernel queues or that buffer, and the process's resident memory stays flat.
#include <catch2/catch.hpp>
#include <string>
#include <torsion/protocol/reactor.hpp>
#include <torsion/protocol/tcp_transport.hpp>
#include <torsion/torsion.hpp>

#include "support/proc_stats.hpp"
#include "support/settle.hpp"

using namespace torsion;
using namespace torsion::twisted;

namespace {

constexpr std::size_t chunk = 65536;
constexpr std::size_t wanted = std::size_t{200} << 20;  // what it would send if nothing held it back

// Writes one chunk per loop turn while not paused, until `wanted` bytes.
struct Firehose final : IProducer {
  Reactor* reactor = nullptr;
  tcp_transport* t = nullptr;
  std::string data = std::string(chunk, 'f');
  std::size_t produced = 0, max_buffered = 0;
  int pauses = 0, resumes = 0;
  bool paused = false, stopped = false, scheduled = false;

  void start(tcp_transport& transport) {
    t = &transport;
    REQUIRE(t->registerProducer(this, true));
    schedule();
  }
  void schedule() {
    if (scheduled || paused || stopped || produced >= wanted) return;
    scheduled = true;
    reactor->callLater(0, [this] {
      scheduled = false;
      if (paused || stopped || !t) return;
      t->write(data);
      produced += data.size();
      max_buffered = std::max(max_buffered, t->buffered());
      schedule();
    });
  }
  void pauseProducing() override {
    ++pauses;
    paused = true;
  }
  void resumeProducing() override {
    ++resumes;
    paused = false;
    schedule();
  }
  void stopProducing() override {
    stopped = true;
    t = nullptr;
  }
};

struct Source final : Protocol {
  Firehose* hose = nullptr;
  int* server_fd = nullptr;
  void connectionMade() override {
    auto& tt = static_cast<tcp_transport&>(*transport);
    *server_fd =
        torsion_test::find_socket(endpoint(ip_address::loopback_v4(), static_cast<std::uint16_t>(tt.getHost().port)),
                                  endpoint(ip_address::loopback_v4(), static_cast<std::uint16_t>(tt.getPeer().port)))
            .value_or(-1);
    hose->start(tt);
  }
};

}  // namespace

TEST_CASE(
    "a peer that never reads - the push producer is paused - buffering stays under the mark plus one chunk - "
    "RSS flat",
    "[protocol][faults]") {
  Firehose hose;  // before the reactor: the reactor's shutdown stops it
  proactor px;
  Reactor reactor(px);
  hose.reactor = &reactor;
  int server_fd = -1;
  ServerFactory f;
  f.protocol = [&] {
    auto p = std::make_unique<Source>();
    p->hose = &hose;
    p->server_fd = &server_fd;
    return p;
  };
  const int fds_before = torsion_test::open_fd_count();
  auto port = reactor.listenTCP(0, f, 50, "127.0.0.1");
  REQUIRE(port);
  const endpoint where(ip_address::loopback_v4(), static_cast<std::uint16_t>(port.value()->getHost().port));
  const long rss_before = torsion_test::rss_kib();
  long rss_blocked = 0;
  long in_kernel = 0;
  bool settled = false;
  reactor.tasks().spawn([](endpoint where, Firehose& hose, int& server_fd, Reactor& reactor, long& rss_blocked,
                           long& in_kernel, bool& settled) -> task<void> {
    auto s = co_await connect(where);
    REQUIRE(s);
    // Never read. Wait for the pause, then until nothing moves any more (the kernel queues full).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (hose.pauses == 0 && std::chrono::steady_clock::now() < deadline)
      (void)co_await sleep_for(std::chrono::milliseconds(1));
    const bool quiet = co_await torsion_test::until_settled([&] { return hose.produced; }, 50);
    settled = quiet && hose.pauses > 0;
    rss_blocked = torsion_test::rss_kib();
    in_kernel = torsion_test::socket_outq(server_fd) + torsion_test::socket_inq(s.value().native_handle());
    (void)s.value().abort();
    reactor.stop();
  }(where, hose, server_fd, reactor, rss_blocked, in_kernel, settled));
  reactor.run(false);

  CHECK(settled);
  REQUIRE(server_fd >= 0);
  CHECK(hose.pauses == 1);
  CHECK(hose.resumes == 0);
  CHECK(hose.produced < wanted / 10);         // it stopped long before 200 MiB
  CHECK(hose.max_buffered <= 65536 + chunk);  // highWaterMark + one chunk
  // Every byte produced is in the kernel queues (sent, not read) or still in the transport.
  CHECK(static_cast<long>(hose.produced) - in_kernel >= 0);
  CHECK(static_cast<long>(hose.produced) - in_kernel <= static_cast<long>(hose.max_buffered));
  CHECK(rss_blocked - rss_before < 8 * 1024);  // KiB: a few MiB at most, nowhere near 200 MiB
  port.value().reset();
  CHECK(torsion_test::open_fd_count() == fds_before);
  WARN("callback: a push producer wanting " << (wanted >> 20) << " MiB was paused after " << hose.produced
                                            << " bytes: " << in_kernel << " in the kernel queues, at most "
                                            << hose.max_buffered << " buffered in the transport; RSS " << rss_before
                                            << " -> " << rss_blocked << " KiB");
}
