// Faults a peer inflicts on a tcp_stream: a reset in the middle of a message, a half-close after
// which it keeps reading, a close while this side is writing 8 MiB. Each must end in the right
// error value, account for every byte sent before the fault, and leave no descriptor behind.
#include <catch2/catch.hpp>
#include <chrono>
#include <torsion/torsion.hpp>
#include <vector>

#include "support/loopback.hpp"
#include "support/proc_stats.hpp"
#include "support/settle.hpp"

using namespace torsion;
using namespace std::chrono_literals;

namespace {

std::byte pattern_at(std::size_t i) { return std::byte(static_cast<unsigned char>(i * 131 + (i >> 9))); }

std::vector<std::byte> pattern(std::size_t from, std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = pattern_at(from + i);
  return v;
}

bool is_pattern(const std::byte* p, std::size_t from, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] != pattern_at(from + i)) return false;
  return true;
}

// Everything up to the end of the stream or an error: how many bytes, whether they were the
// pattern in order, and how it ended (no error: end of stream).
struct drained {
  std::size_t bytes = 0;
  bool in_order = true;
  std::error_code end;
};

task<drained> drain(tcp_stream& s) {
  drained d;
  std::vector<std::byte> buf(65536);
  for (;;) {
    auto n = co_await s.read_some(buf);
    if (!n) {
      d.end = n.error();
      co_return d;
    }
    if (n.value() == 0) co_return d;
    d.in_order = d.in_order && is_pattern(buf.data(), d.bytes, n.value());
    d.bytes += n.value();
  }
}

}  // namespace

TEST_CASE("a peer that resets in the middle of a message - every byte before the reset then ECONNRESET",
          "[net][faults]") {
  proactor px;
  const int fds_before = torsion_test::open_fd_count();
  auto pair = torsion_test::tcp_pair();
  const std::size_t half = 1500;  // of a 3000-byte message
  auto got = px.run([](int ours, int theirs, std::size_t half) -> task<drained> {
    tcp_stream s(ours, *proactor::current());
    tcp_stream peer(theirs, *proactor::current());
    auto w = co_await peer.write_all(pattern(0, half));
    REQUIRE(w);
    REQUIRE(peer.abort());
    co_return co_await drain(s);
  }(pair.release_a(), pair.release_b(), half));
  CHECK(got.bytes == half);  // the reset destroys nothing that had already arrived
  CHECK(got.in_order);
  CHECK(got.end == std::errc::connection_reset);
  CHECK(px.in_flight() == 0);
  CHECK(torsion_test::open_fd_count() == fds_before);
}

TEST_CASE("a peer that half-closes and keeps reading gets the whole reply - and we get the whole request",
          "[net][faults]") {
  proactor px;
  const int fds_before = torsion_test::open_fd_count();
  auto pair = torsion_test::tcp_pair();
  constexpr std::size_t request = 1 << 20, reply = 3 << 20;
  auto [at_server, at_peer, peer_write_after_fin] =
      px.run([](int ours, int theirs) -> task<std::tuple<drained, drained, std::error_code>> {
        tcp_stream s(ours, *proactor::current());
        tcp_stream peer(theirs, *proactor::current());
        // The peer: send the request, half-close, then read the reply to the end.
        auto peer_side = [](tcp_stream& p) -> task<std::pair<drained, std::error_code>> {
          auto w = co_await p.write_all(pattern(0, request));
          REQUIRE(w);
          REQUIRE(p.shutdown_write());
          const auto extra = pattern(0, 16);
          auto after_fin = co_await p.write_some(std::span(extra));
          std::error_code write_error = after_fin ? std::error_code{} : after_fin.error();
          co_return std::pair{co_await drain(p), write_error};
        };
        // The server: read the request to its end, then answer and close.
        auto server_side = [](tcp_stream& s) -> task<drained> {
          drained in = co_await drain(s);
          auto w = co_await s.write_all(pattern(0, reply));
          REQUIRE(w);
          REQUIRE(s.close());
          co_return in;
        };
        auto [server, peer_result] = co_await when_all(server_side(s), peer_side(peer));
        co_return std::tuple{server, peer_result.first, peer_result.second};
      }(pair.release_a(), pair.release_b()));
  CHECK(at_server.bytes == request);
  CHECK(at_server.in_order);
  CHECK_FALSE(at_server.end);  // a clean end of stream, not an error
  CHECK(at_peer.bytes == reply);
  CHECK(at_peer.in_order);
  CHECK_FALSE(at_peer.end);
  CHECK(peer_write_after_fin == std::errc::broken_pipe);  // writing after our own FIN: a value, no SIGPIPE
  CHECK(px.in_flight() == 0);
  CHECK(torsion_test::open_fd_count() == fds_before);
}

TEST_CASE("a peer that closes while we write 8 MiB - EPIPE or ECONNRESET - every byte written is accounted for",
          "[net][faults]") {
  proactor px;
  const int fds_before = torsion_test::open_fd_count();
  auto pair = torsion_test::tcp_pair();
  struct outcome {
    std::size_t written = 0;      // bytes write_some reported as taken by the kernel
    std::error_code write_error;  // how the writing ended
    std::size_t peer_read = 0;    // bytes the peer read before closing
    bool in_order = false;
    long peer_unread = -1, unacked = -1;  // kernel queues at the moment of the close
    std::size_t written_at_close = 0;
  };
  auto o = px.run([](int ours, int theirs) -> task<outcome> {
    outcome o;
    tcp_stream s(ours, *proactor::current());
    tcp_stream peer(theirs, *proactor::current());
    task_group g;
    g.spawn([](tcp_stream& s, outcome& o) -> task<void> {
      const auto all = pattern(0, 8 << 20);
      while (o.written < all.size()) {
        auto n = co_await s.write_some(std::span(all).subspan(o.written));
        if (!n) {
          o.write_error = n.error();
          co_return;
        }
        o.written += n.value();
      }
    }(s, o));
    // The peer reads 256 KiB, then stops reading: both kernel buffers fill and the writer stalls.
    std::vector<std::byte> head(256 << 10);
    auto r = co_await peer.read_exactly(head);
    REQUIRE(r);
    o.peer_read = head.size();
    o.in_order = is_pattern(head.data(), 0, head.size());
    const int sfd = s.native_handle(), pfd = peer.native_handle();
    auto settled = co_await torsion_test::until_settled([&] {
      return std::tuple{o.written, torsion_test::socket_outq(sfd), torsion_test::socket_inq(pfd)};
    });
    REQUIRE(settled);
    o.unacked = torsion_test::socket_outq(sfd);
    o.peer_unread = torsion_test::socket_inq(pfd);
    o.written_at_close = o.written;
    // Closing with unread data makes the kernel reset the connection.
    REQUIRE(peer.close());
    co_await g.join();
    co_return o;
  }(pair.release_a(), pair.release_b()));
  CHECK(o.in_order);
  CHECK((o.write_error == std::errc::broken_pipe || o.write_error == std::errc::connection_reset));
  CHECK(o.written < (8u << 20));
  CHECK(o.written == o.written_at_close);  // nothing reported written after the writer stalled
  // Every byte the kernel took is read by the peer, waiting in the peer's receive queue, or still
  // unacknowledged in ours (bytes received but not yet acknowledged count in both queues, hence the
  // two bounds): none vanished, none appeared from nowhere.
  INFO("read " << o.peer_read << " unread " << o.peer_unread << " unacked " << o.unacked << " written " << o.written);
  const std::size_t at_peer = o.peer_read + static_cast<std::size_t>(o.peer_unread);
  CHECK(at_peer <= o.written);
  CHECK(o.written <= at_peer + static_cast<std::size_t>(o.unacked));
  CHECK(px.in_flight() == 0);
  CHECK(torsion_test::open_fd_count() == fds_before);
}
