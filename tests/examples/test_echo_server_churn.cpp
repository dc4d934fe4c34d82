// Connection churn against the echo_server example: 100,000 connect / echo / close cycles, 32 at a
// time. Every echo is verified, no attempt fails, and neither side grows: the server's descriptors
// come back to where they started and its resident memory after the run is what it was once warmed
// up; the same for this (client) process.
//
// The client closes first, so each cycle leaves a TIME_WAIT socket on the client side, and there
// are only ~28,000 ephemeral ports. Linux reuses a loopback TIME_WAIT port for a new outgoing
// connection once it is a second old (net.ipv4.tcp_tw_reuse = 2, the default); where reuse is
// off the clients close with a reset instead (no TIME_WAIT), and the test says so.
#include <catch2/catch.hpp>
#include <fstream>
#include <torsion/torsion.hpp>

#include "support/example_server.hpp"
#include "support/proc_stats.hpp"
#include "support/settle.hpp"

using namespace torsion;
using namespace std::chrono_literals;

namespace {

// Sanitizer builds are several times slower: fewer cycles there.
constexpr std::size_t cycles = torsion_test::sanitizer_build() ? 10000 : 100000;
constexpr std::size_t parallel = 32;
constexpr std::size_t warm_up = cycles / 10;

bool loopback_time_wait_reuse() {
  std::ifstream f("/proc/sys/net/ipv4/tcp_tw_reuse");
  int v = 0;
  return (f >> v) && v != 0;
}

std::array<std::byte, 16> message(std::size_t cycle) {
  std::array<std::byte, 16> m{};
  for (std::size_t k = 0; k < m.size(); ++k) m[k] = std::byte(static_cast<unsigned char>(cycle * 131 + k * 7));
  return m;
}

struct tally {
  std::size_t next = 0, echoed = 0, failed = 0;
  std::error_code first_error;
  long server_rss_warm = 0, client_rss_warm = 0;
  void fail(const std::error_code& ec) {
    if (!failed++) first_error = ec;
  }
};

task<void> churn(endpoint where, bool clean_close, pid_t spid, tally& t) {
  while (t.next < cycles) {
    const std::size_t cycle = t.next++;
    if (cycle == warm_up) {
      t.server_rss_warm = torsion_test::rss_kib(spid);
      t.client_rss_warm = torsion_test::rss_kib();
    }
    auto s = co_await connect(where);
    if (!s) {
      t.fail(s.error());
      continue;
    }
    const auto out = message(cycle);
    std::array<std::byte, 16> in{};
    result<void> r = co_await s.value().write_all(out);
    if (r) r = co_await s.value().read_exactly(in);
    if (r && in == out)
      ++t.echoed;
    else
      t.fail(r ? make_error_code(errc::invalid_state) : r.error());
    if (clean_close)
      (void)s.value().close();
    else
      (void)s.value().abort();
  }
}

void churn_against(const std::string& style) {
  const bool clean_close = loopback_time_wait_reuse();
  if (!clean_close)
    WARN("net.ipv4.tcp_tw_reuse is 0: clients close with a reset so that TIME_WAIT cannot run out ports");
  torsion_test::child_process server({torsion_test::example_path("echo_server"), "--port", "0", "--style", style});
  const auto where = torsion_test::listening_endpoint(server);
  REQUIRE(where);
  const pid_t spid = server.pid();
  const int server_fds_before = torsion_test::open_fd_count(spid);

  proactor px;
  const int fds_before = torsion_test::open_fd_count();
  tally t;
  const auto t0 = std::chrono::steady_clock::now();
  px.run([](endpoint where, bool clean_close, pid_t spid, tally& t) -> task<void> {
    task_group g;
    for (std::size_t i = 0; i < parallel; ++i) g.spawn(churn(where, clean_close, spid, t));
    co_await g.join();
  }(*where, clean_close, spid, t));
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  INFO("first error: " << t.first_error.message());
  CHECK(t.failed == 0);
  CHECK(t.echoed == cycles);
  CHECK(torsion_test::open_fd_count() == fds_before);
  // The server closes its side when it reads our FIN (or reset): the last ones may still be on their way.
  CHECK(torsion_test::eventually([&] { return torsion_test::open_fd_count(spid) == server_fds_before; }, 5s));
  const long server_rss = torsion_test::rss_kib(spid), client_rss = torsion_test::rss_kib();
  // AddressSanitizer holds freed memory in quarantine, so RSS grows there by design; its leak check
  // at the server's exit (a non-zero status) stands in for this one.
  if (!torsion_test::asan_build()) {
    CHECK(server_rss - t.server_rss_warm < 1024);  // KiB
    CHECK(client_rss - t.client_rss_warm < 1024);
  }
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == std::optional<int>(0));
  WARN(style << " echo_server: " << cycles << " connect/echo/close cycles (" << parallel << " at a time, "
             << (clean_close ? "FIN" : "RST") << " close) in " << elapsed << " s = " << double(cycles) / elapsed
             << " cycles/s; server RSS " << t.server_rss_warm << " KiB after " << warm_up << " cycles, " << server_rss
             << " KiB at the end; client RSS " << t.client_rss_warm << " -> " << client_rss << " KiB");
}

}  // namespace

TEST_CASE("100000 connect - echo - close cycles against the coroutine echo_server - no descriptor or memory growth",
          "[examples][load]") {
  churn_against("coro");
}

TEST_CASE("100000 connect - echo - close cycles against the callback echo_server - no descriptor or memory growth",
          "[examples][load]") {
  churn_against("callback");
}
