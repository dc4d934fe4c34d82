// The two programming styles side by side: one 64-byte ping-pong client, measured against the
// coroutine echo server of examples/echo_server.cpp and against the callback one (Twisted's Echo
// protocol behind a Reactor), all in one proactor. The target: the callback server's cost
// per round trip within 5% of the coroutine server's, in the same run (compare the two rows).
#include <benchmark/benchmark.h>

#include <array>
#include <torsion/core/task_group.hpp>
#include <torsion/net/connect.hpp>
#include <torsion/net/tcp_listener.hpp>
#include <torsion/protocol/reactor.hpp>

#include "alloc_counter.hpp"

namespace {

using torsion::task;

class Echo : public torsion::twisted::Protocol {
 public:
  void dataReceived(std::string_view data) override { transport->write(data); }
};

// The same loop as examples/echo_server.cpp's: receive() lends a ring buffer, sent back from there
// by a write shielded from the reader's stop token.
task<void> coro_echo(torsion::tcp_stream s) {
  for (;;) {
    auto chunk = co_await s.receive();
    if (!chunk) co_return;
    auto w = co_await s.write_all(chunk.value().bytes()).with_stop_token(torsion::no_stop_token);
    if (!w) co_return;
  }
}

// Warm up, then one round trip per benchmark iteration.
task<void> ping_pong(benchmark::State& st, torsion::tcp_stream& c, torsion_bench::alloc_probe& probe) {
  std::array<std::byte, 64> out{}, in{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::byte(static_cast<unsigned char>(i * 3));
  for (int i = 0; i < 1000; ++i) {
    auto w = co_await c.write_all(out);
    auto r = co_await c.read_exactly(in);
    if (!w || !r) {
      st.SkipWithError("warm-up failed");
      co_return;
    }
  }
  probe.start();
  for (auto _ : st) {
    auto w = co_await c.write_all(out);
    auto r = co_await c.read_exactly(in);
    if (!w || !r) {
      st.SkipWithError("round trip failed");
      break;
    }
  }
  probe.stop();
  if (in != out) st.SkipWithError("echo corrupted the data");
}

task<void> against_coro(benchmark::State& st, torsion_bench::alloc_probe& probe) {
  auto l = torsion::tcp_listener::listen(torsion::endpoint(torsion::ip_address::loopback_v4(), 0));
  auto c = co_await torsion::connect(l.value().local_endpoint().value());
  auto s = co_await l.value().accept();
  if (!c || !s) {
    st.SkipWithError("connect failed");
    co_return;
  }
  (void)c.value().set_no_delay(true);
  torsion::task_group g;
  g.spawn(coro_echo(std::move(s).value()));
  co_await ping_pong(st, c.value(), probe);
  (void)c.value().shutdown_write();
  co_await g.join();
}

task<void> against_callback(benchmark::State& st, torsion_bench::alloc_probe& probe, torsion::twisted::Reactor& r) {
  auto factory = torsion::twisted::Factory::forProtocol<Echo, torsion::twisted::ServerFactory>();
  auto port = r.listenTCP(0, *factory, 50, "127.0.0.1");
  if (!port) {
    st.SkipWithError("listen failed");
    co_return;
  }
  auto c = co_await torsion::connect("127.0.0.1", port.value()->getHost().port);
  if (!c) {
    st.SkipWithError("connect failed");
    co_return;
  }
  (void)c.value().set_no_delay(true);
  co_await ping_pong(st, c.value(), probe);
  (void)c.value().close();
  port.value()->stopListening();
}

void BM_echo_style_coro(benchmark::State& st) {
  torsion::proactor px;
  torsion_bench::alloc_probe probe(&px);
  px.run(against_coro(st, probe));
  st.SetItemsProcessed(st.iterations());
  probe.report(st, "rt");
}
BENCHMARK(BM_echo_style_coro)->MinTime(torsion_bench::min_time)->UseRealTime();

void BM_echo_style_callback(benchmark::State& st) {
  torsion::proactor px;
  torsion::twisted::Reactor reactor(px);
  torsion_bench::alloc_probe probe(&px);
  px.run(against_callback(st, probe, reactor));
  st.SetItemsProcessed(st.iterations());
  probe.report(st, "rt");
}
BENCHMARK(BM_echo_style_callback)->MinTime(torsion_bench::min_time)->UseRealTime();

}  // namespace
