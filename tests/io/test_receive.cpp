// tcp_stream::receive(): multishot recv into the proactor's provided-buffer ring, over real
// loopback sockets, in both modes (kernel-selected ring buffers, and the single-shot pool fallback).
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <torsion/torsion.hpp>
#include <vector>

#include "support/loopback.hpp"

using namespace torsion;

namespace {

std::vector<std::byte> pattern(std::size_t n, unsigned seed = 0) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<unsigned char>((i * 131 + i / 4093 + seed) & 0xff));
  return v;
}

task<void> send_then_close(tcp_stream& s, const std::vector<std::byte>& data) {
  auto w = co_await s.write_all(data);
  REQUIRE(w);
  (void)s.shutdown_write();
}

// Everything until the end of the stream.
task<std::vector<std::byte>> receive_all(tcp_stream& s, std::size_t* chunks = nullptr) {
  std::vector<std::byte> got;
  for (;;) {
    auto b = co_await s.receive();
    if (!b) {
      CHECK(b.error() == errc::connection_done);
      co_return got;
    }
    REQUIRE(b.value().size() > 0);
    got.insert(got.end(), b.value().data(), b.value().data() + b.value().size());
    if (chunks) ++*chunks;
  }
}

task<void> transfer(tcp_stream& tx, tcp_stream& rx, std::size_t n, unsigned seed) {
  const auto data = pattern(n, seed);
  task_group g;
  g.spawn(send_then_close(tx, data));
  auto got = co_await receive_all(rx);
  co_await g.join();
  CHECK(got.size() == data.size());
  CHECK(got == data);
}

proactor_config mode_config(bool kernel_ring) {
  proactor_config cfg;
  cfg.use_buffer_ring = kernel_ring;
  return cfg;
}

// `n` connected pairs: tx[i] writes, rx[i] receives.
struct stream_pairs {
  std::vector<tcp_stream> tx, rx;
  stream_pairs(proactor& px, int n) {
    for (int i = 0; i < n; ++i) {
      auto pair = torsion_test::tcp_pair();
      tx.emplace_back(pair.release_a(), px);
      rx.emplace_back(pair.release_b(), px);
    }
  }
};

// All pairs at once, pair i carrying base + step * i bytes.
task<void> transfer_all(stream_pairs& p, std::size_t base, std::size_t step) {
  task_group g;
  for (std::size_t i = 0; i < p.tx.size(); ++i)
    g.spawn(transfer(p.tx[i], p.rx[i], base + step * i, static_cast<unsigned>(i)));
  co_await g.join();
}

// Loop turns, for "nothing happens" checks that need no timing: each is a full enter/reap cycle.
task<void> turns(int n) {
  for (int i = 0; i < n; ++i) (void)co_await nop();
}

}  // namespace

TEST_CASE("receive delivers every byte in order from 1 B to 1 MiB", "[io]") {
  const bool kernel_ring = GENERATE(true, false);
  INFO("kernel-selected ring: " << kernel_ring);
  proactor px(mode_config(kernel_ring));
  for (std::size_t n : {std::size_t{1}, std::size_t{100}, std::size_t{4095}, std::size_t{4096}, std::size_t{4097},
                        std::size_t{65536}, std::size_t{300000}, std::size_t{1} << 20}) {
    INFO("bytes: " << n);
    auto pair = torsion_test::tcp_pair();
    tcp_stream tx(pair.release_a(), px), rx(pair.release_b(), px);
    px.run(transfer(tx, rx, n, static_cast<unsigned>(n)));
  }
  if (kernel_ring) CHECK(px.features().buffer_ring);
  CHECK(px.receive_buffers().available() == px.receive_buffers().count());
  CHECK(px.in_flight() == 0);
}

TEST_CASE("receive on many concurrent streams keeps each stream intact", "[io]") {
  const bool kernel_ring = GENERATE(true, false);
  INFO("kernel-selected ring: " << kernel_ring);
  proactor px(mode_config(kernel_ring));
  stream_pairs pairs(px, 64);
  px.run(transfer_all(pairs, 20000, 3000));
  CHECK(px.receive_buffers().available() == px.receive_buffers().count());
}

TEST_CASE("more receiving streams than the operation capacity all make progress", "[io]") {
  // Armed multishot recvs are open-ended: they must not use up the capacity that sends, accepts
  // and timers need (with 8 slots, 64 idle receivers would otherwise block every send).
  proactor_config cfg;
  cfg.sq_entries = 8;
  cfg.cq_entries = 16;
  proactor px(cfg);
  REQUIRE(px.capacity() == 8);
  stream_pairs pairs(px, 64);
  px.run(transfer_all(pairs, 1000, 10));
  CHECK(px.in_flight() == 0);
}

TEST_CASE("a tiny buffer ring forces ENOBUFS and loses nothing", "[io]") {
  const bool kernel_ring = GENERATE(true, false);
  INFO("kernel-selected ring: " << kernel_ring);
  proactor_config cfg = mode_config(kernel_ring);
  cfg.recv_buffers = 2;
  cfg.recv_buffer_size = 512;
  proactor px(cfg);
  stream_pairs pairs(px, 4);
  // Four streams share two buffers, and each receiver holds its buffer across a loop turn, so
  // the others keep finding the ring empty.
  px.run([](stream_pairs& p) -> task<void> {
    std::vector<std::vector<std::byte>> sent;
    for (std::size_t i = 0; i < p.tx.size(); ++i) sent.push_back(pattern(200000, static_cast<unsigned>(i)));
    task_group g;
    for (std::size_t i = 0; i < p.tx.size(); ++i) {
      g.spawn(send_then_close(p.tx[i], sent[i]));
      g.spawn([](tcp_stream& s, const std::vector<std::byte>& want) -> task<void> {
        std::vector<std::byte> got;
        for (;;) {
          auto b = co_await s.receive();
          if (!b) break;
          got.insert(got.end(), b.value().data(), b.value().data() + b.value().size());
          (void)co_await nop();  // still holding it
        }
        CHECK(got == want);
      }(p.rx[i], sent[i]));
      (void)co_await nop();
    }
    co_await g.join();
  }(pairs));
  CHECK(px.receive_buffers().starved() > 0);
  CHECK(px.receive_buffers().available() == 2);
}

TEST_CASE("nobody receiving - the queue stops at its limit and the rest waits in the socket", "[io]") {
  const bool kernel_ring = GENERATE(true, false);
  INFO("kernel-selected ring: " << kernel_ring);
  proactor_config cfg = mode_config(kernel_ring);
  cfg.recv_queue_limit = 4;
  cfg.recv_buffer_size = 1024;
  proactor px(cfg);
  auto pair = torsion_test::tcp_pair();
  tcp_stream tx(pair.release_a(), px), rx(pair.release_b(), px);
  const auto data = pattern(256 * 1024);
  px.run([](tcp_stream& tx, tcp_stream& rx, const std::vector<std::byte>& data, proactor& px) -> task<void> {
    task_group g;
    g.spawn(send_then_close(tx, data));
    auto first = co_await rx.receive();  // arms the multishot; then nobody receives for a while
    co_await turns(50);
    auto& ring = px.receive_buffers();
    // At most the limit is queued, plus the first buffer the test holds. (A kernel without the
    // multishot byte cap may fill more in one pass before the cancel lands.)
    if (!px.receive_buffers().kernel_selected() || px.features().recv_multishot_cap)
      CHECK(ring.count() - ring.available() <= 1 + 4);
    CHECK(ring.count() - ring.available() >= 1 + 1);
    std::vector<std::byte> got;
    if (first) got.assign(first.value().data(), first.value().data() + first.value().size());
    first.value().release();
    auto rest = co_await receive_all(rx);
    got.insert(got.end(), rest.begin(), rest.end());
    co_await g.join();
    CHECK(got == data);
  }(tx, rx, data, px));
}

TEST_CASE("a paused stream stops reading and resumes where it was", "[io]") {
  const bool kernel_ring = GENERATE(true, false);
  INFO("kernel-selected ring: " << kernel_ring);
  proactor px(mode_config(kernel_ring));
  auto pair = torsion_test::tcp_pair();
  tcp_stream tx(pair.release_a(), px), rx(pair.release_b(), px);
  px.run([](tcp_stream& tx, tcp_stream& rx, proactor& px) -> task<void> {
    const std::string hello = "hello";
    auto w = co_await tx.write_all(std::as_bytes(std::span(hello)));
    REQUIRE(w);
    auto b = co_await rx.receive();
    REQUIRE(b);
    CHECK(b.value().view() == "hello");
    b.value().release();
    rx.pause_receiving();
    const auto data = pattern(100000);
    auto w2 = co_await tx.write_all(data);
    REQUIRE(w2);
    co_await turns(20);
    auto& ring = px.receive_buffers();
    CHECK(ring.available() == ring.count());  // nothing taken from the ring while paused
    rx.resume_receiving();
    (void)tx.shutdown_write();
    auto got = co_await receive_all(rx);
    CHECK(got == data);
  }(tx, rx, px));
}

TEST_CASE("a stopped receive is operation_canceled and the data that follows still arrives", "[io]") {
  proactor px;
  auto pair = torsion_test::tcp_pair();
  tcp_stream tx(pair.release_a(), px), rx(pair.release_b(), px);
  px.run([](tcp_stream& tx, tcp_stream& rx) -> task<void> {
    std::error_code seen;
    {
      task_group g;
      g.spawn([](tcp_stream& rx, std::error_code& seen) -> task<void> {
        auto b = co_await rx.receive();
        if (!b) seen = b.error();
      }(rx, seen));
      co_await turns(2);
      g.request_stop();
      co_await g.join();
    }
    CHECK(seen == errc::operation_canceled);
    const auto data = pattern(5000);
    task_group g;
    g.spawn(send_then_close(tx, data));
    auto got = co_await receive_all(rx);
    co_await g.join();
    CHECK(got == data);
  }(tx, rx));
}

TEST_CASE("closing a stream with its multishot in flight is clean - held buffers stay valid", "[io]") {
  const bool kernel_ring = GENERATE(true, false);
  INFO("kernel-selected ring: " << kernel_ring);
  proactor px(mode_config(kernel_ring));
  auto pair = torsion_test::tcp_pair();
  tcp_stream rx(pair.release_b(), px);
  const int peer = pair.a;
  px.run([](tcp_stream& rx, int peer, proactor& px) -> task<void> {
    REQUIRE(::write(peer, "first", 5) == 5);
    auto held = co_await rx.receive();
    REQUIRE(held);
    REQUIRE(::write(peer, "second", 6) == 6);
    co_await turns(3);  // "second" is queued in a ring buffer; the multishot is still armed
    // A waiting receive on another task ends with operation_canceled when the stream closes.
    std::error_code seen;
    task_group g;
    g.spawn([](tcp_stream& rx, std::error_code& seen) -> task<void> {
      auto b = co_await rx.receive();  // takes "second"
      REQUIRE(b);
      CHECK(b.value().view() == "second");
      auto c = co_await rx.receive();  // waits
      if (!c) seen = c.error();
    }(rx, seen));
    co_await turns(2);
    REQUIRE(rx.close());
    ::write(peer, "late", 4);  // the socket may already be gone: EPIPE/ECONNRESET are fine
    co_await g.join();
    CHECK(seen == errc::operation_canceled);
    CHECK(held.value().view() == "first");  // still ours after close
    held.value().release();
    co_await turns(5);
    CHECK(px.receive_buffers().available() == px.receive_buffers().count());
    CHECK(px.in_flight() == 0);
  }(rx, peer, px));
  CHECK(px.stale_cqes() == 0);
}

TEST_CASE("destroying a stream with data streaming into its multishot returns every buffer", "[io]") {
  proactor px;
  auto pair = torsion_test::tcp_pair();
  auto rx = std::make_unique<tcp_stream>(pair.release_b(), px);
  tcp_stream tx(pair.release_a(), px);
  px.run([](tcp_stream& tx, std::unique_ptr<tcp_stream>& rx, proactor& px) -> task<void> {
    const auto data = pattern(2 << 20);
    task_group g;
    g.spawn([](tcp_stream& tx, const std::vector<std::byte>& data) -> task<void> {
      auto w = co_await tx.write_all(data);
      (void)w;  // fails with ECONNRESET or EPIPE once the reader is gone
    }(tx, data));
    auto b = co_await rx->receive();
    REQUIRE(b);
    b.value().release();
    co_await turns(2);
    rx.reset();  // multishot armed, data still arriving
    co_await g.join();
    co_await turns(5);
    CHECK(px.receive_buffers().available() == px.receive_buffers().count());
    CHECK(px.in_flight() == 0);
  }(tx, rx, px));
}
