// Closing a connection must not cost in proportion to the other connections. The kernel's
// cancel-by-descriptor scans every operation pending on the ring, so a close that always asked for
// one made closing n idle connections (each with its read pending) cost O(n^2): an echo server
// with 10,000 of them took seconds to let go of their sockets after the clients had left. A close
// with nothing in flight on its descriptor now skips the request; one with a pending read still
// cancels it.
#include <catch2/catch.hpp>
#include <torsion/torsion.hpp>
#include <vector>

#include "support/loopback.hpp"
#include "support/proc_stats.hpp"

using namespace torsion;

namespace {

// Sanitizer builds are slower: fewer connections there (the property does not depend on the count).
constexpr std::size_t pending = torsion_test::sanitizer_build() ? 500 : 3000;
constexpr std::size_t idle = torsion_test::sanitizer_build() ? 200 : 1000;

struct side {
  tcp_stream ours;
  int theirs = -1;
};

std::vector<side> make_pairs(proactor& px, std::size_t n) {
  std::vector<side> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto p = torsion_test::tcp_pair();
    v.push_back({tcp_stream(p.release_a(), px), p.release_b()});
  }
  return v;
}

// How each pending read ended: 0 bytes (the peer closed), or canceled (we closed our side).
struct outcomes {
  std::size_t end_of_stream = 0, canceled = 0, other = 0;
};

task<void> read_once(tcp_stream& s, outcomes& out) {
  std::array<std::byte, 64> buf;
  auto n = co_await s.read_some(buf);
  if (n && n.value() == 0)
    ++out.end_of_stream;
  else if (!n && n.error() == errc::operation_canceled)
    ++out.canceled;
  else
    ++out.other;
}

}  // namespace

TEST_CASE("closing a stream with nothing in flight sends no cancel to the kernel - with thousands of reads pending",
          "[net][load]") {
  REQUIRE(torsion_test::raise_fd_limit(2 * (pending + idle) + 100) >= 2 * (pending + idle) + 100);
  proactor px;
  const int fds_before = torsion_test::open_fd_count();
  auto readers = make_pairs(px, pending);
  auto quiet = make_pairs(px, idle);
  outcomes out;
  std::uint64_t cancels_for_idle = 0, cancels_for_busy = 0;
  px.run([](proactor& px, std::vector<side>& readers, std::vector<side>& quiet, outcomes& out,
            std::uint64_t& cancels_for_idle, std::uint64_t& cancels_for_busy) -> task<void> {
    task_group g;
    for (auto& r : readers) g.spawn(read_once(r.ours, out));
    CHECK(px.in_flight() >= readers.size());  // every read is with the kernel

    // Idle streams: their close has nothing to cancel and must not ask the kernel to look.
    const auto before_idle = px.fd_cancels();
    for (auto& q : quiet) CHECK(q.ours.close());
    cancels_for_idle = px.fd_cancels() - before_idle;

    // A stream with a read pending: its close cancels that read, and only that one.
    const auto before_busy = px.fd_cancels();
    CHECK(readers.front().ours.close());
    cancels_for_busy = px.fd_cancels() - before_busy;

    // The other peers leave: every remaining read sees the end of the stream.
    for (std::size_t i = 1; i < readers.size(); ++i) ::close(std::exchange(readers[i].theirs, -1));
    co_await g.join();
  }(px, readers, quiet, out, cancels_for_idle, cancels_for_busy));

  CHECK(cancels_for_idle == 0);
  CHECK(cancels_for_busy == 1);
  CHECK(out.canceled == 1);
  CHECK(out.end_of_stream == pending - 1);
  CHECK(out.other == 0);
  CHECK(px.in_flight() == 0);
  for (auto& s : readers) {
    (void)s.ours.close();
    if (s.theirs >= 0) ::close(s.theirs);
  }
  for (auto& s : quiet) ::close(s.theirs);
  CHECK(torsion_test::open_fd_count() == fds_before);
}

TEST_CASE("a descriptor number reused after a close - the new stream's pending read is still cancelled by its close",
          "[net]") {
  proactor px;
  px.run([](proactor& px) -> task<void> {
    // The first stream's read is cancelled by its close; its descriptor number comes back at once
    // for the next socket, whose read must be found by its own close just the same.
    for (int round = 0; round < 3; ++round) {
      auto p = torsion_test::tcp_pair();
      tcp_stream s(p.release_a(), px);
      outcomes out;
      task_group g;
      g.spawn(read_once(s, out));
      CHECK(s.close());
      co_await g.join();
      CHECK(out.canceled == 1);
    }
  }(px));
  CHECK(px.in_flight() == 0);
}
