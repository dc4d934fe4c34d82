// The callback layer's TCP transport over real loopback sockets: a Reactor serves, a plain coroutine
// peer drives the other end.
#include <catch2/catch.hpp>
#include <string>
#include <torsion/core/yield.hpp>
#include <torsion/io/ops.hpp>
#include <torsion/net/connect.hpp>
#include <torsion/protocol/reactor.hpp>
#include <torsion/protocol/tcp_transport.hpp>
#include <torsion/time/sleep.hpp>
#include <vector>

#include "support/read_to_end.hpp"

using namespace torsion;
using namespace torsion::twisted;
using namespace std::chrono_literals;

namespace {

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// What a connection's protocol saw. Owned by the test: the protocol itself goes away with its
// transport after connectionLost.
struct record {
  std::string received;
  std::vector<Failure> lost;
  bool inside_call = false;  // set while the test calls into the transport, to catch re-entrancy
  bool reentrant = false;
};

struct Recorder : Protocol {
  record* rec = nullptr;
  std::function<void(Recorder&)> on_made;
  std::function<void(Recorder&, std::string_view)> on_data;
  void connectionMade() override {
    if (on_made) on_made(*this);
  }
  void dataReceived(std::string_view d) override {
    rec->received.append(d);
    if (on_data) on_data(*this, d);
  }
  void connectionLost(const Failure& r) override {
    if (rec->inside_call) rec->reentrant = true;
    rec->lost.push_back(r);
  }
};

// A server factory for one connection at a time; `made` is valid while that connection is up.
struct OneShot : ServerFactory {
  record rec;
  Recorder* made = nullptr;
  std::function<void(Recorder&)> on_made;
  std::function<void(Recorder&, std::string_view)> on_data;
  std::unique_ptr<Protocol> buildProtocol(const Address&) override {
    rec = record{};
    auto p = std::make_unique<Recorder>();
    p->rec = &rec;
    p->on_made = on_made;
    p->on_data = on_data;
    p->factory = this;
    made = p.get();
    return p;
  }
};

task<void> until_lost(OneShot& fac) {
  while (fac.rec.lost.empty()) (void)co_await nop();
  for (int i = 0; i < 5; ++i) (void)co_await nop();  // time for a second connectionLost, if there were one
}

// Read everything until the peer closes (or resets); returns the bytes and the way it ended.
using torsion_test::read_to_end;

struct fixture {
  proactor px;
  OneShot factory;  // before the reactor: its shutdown still calls the protocols the factory made
  Reactor reactor{px};
  std::unique_ptr<IListeningPort> port;
  fixture() { port = std::move(reactor.listenTCP(0, factory, 50, "127.0.0.1")).value(); }
  std::uint16_t port_number() const { return port->getHost().port; }
};

}  // namespace

TEST_CASE("loseConnection with 8 MiB pending delivers all of it then closes cleanly", "[protocol]") {
  fixture f;
  const std::string big = pattern(8 << 20);
  f.factory.on_made = [&](Recorder& p) {
    p.transport->write(big);
    p.transport->loseConnection();
    p.transport->write("tail");  // after loseConnection, before the close: still sent (Twisted 03 #8)
  };
  auto [data, how] = f.px.run([](std::uint16_t port) -> task<std::pair<std::string, std::error_code>> {
    auto s = co_await connect("127.0.0.1", port);
    REQUIRE(s);
    co_return co_await read_to_end(s.value());
  }(f.port_number()));
  CHECK_FALSE(how);
  CHECK(data.size() == big.size() + 4);
  CHECK(data == big + "tail");
  f.px.run(until_lost(f.factory));
  REQUIRE(f.factory.rec.lost.size() == 1);
  CHECK(f.factory.rec.lost[0].is_clean());
}

TEST_CASE("abortConnection drops buffered output - resets - and reports connection_aborted on a later turn", "[protocol]") {
  fixture f;
  f.factory.on_made = [&](Recorder& p) {
    p.transport->write(pattern(8 << 20));
    p.rec->inside_call = true;
    p.transport->abortConnection();
    p.transport->abortConnection();  // twice is harmless
    p.transport->loseConnection();   // and so is a lose after an abort
    p.transport->write("never");
    p.rec->inside_call = false;
    CHECK(p.rec->lost.empty());  // not from inside the call
  };
  auto [data, how] = f.px.run([](std::uint16_t port) -> task<std::pair<std::string, std::error_code>> {
    auto s = co_await connect("127.0.0.1", port);
    REQUIRE(s);
    co_return co_await read_to_end(s.value());
  }(f.port_number()));
  CHECK(data.empty());  // buffered output was dropped
  CHECK(how == std::errc::connection_reset);
  f.px.run(until_lost(f.factory));
  REQUIRE(f.factory.rec.lost.size() == 1);  // exactly once
  CHECK(f.factory.rec.lost[0].check(errc::connection_aborted));
  CHECK_FALSE(f.factory.rec.reentrant);
}

namespace {
// A push producer writing 16 KiB per round until told to stop; counts pauses and resumes.
struct Streamer : IProducer {
  ITransport* t = nullptr;
  int pauses = 0, resumes = 0, stops = 0;
  bool paused = false;
  std::size_t max_buffered = 0;
  std::size_t sent = 0, total = 0;
  void pump(tcp_transport& tt) {
    const std::string chunk = pattern(16384);
    while (!paused && sent < total) {
      t->write(chunk);
      sent += chunk.size();
      max_buffered = std::max(max_buffered, tt.buffered());
    }
  }
  void pauseProducing() override {
    ++pauses;
    paused = true;
  }
  void resumeProducing() override {
    ++resumes;
    paused = false;
  }
  void stopProducing() override { ++stops; }
};
}  // namespace

TEST_CASE("a slow reader pauses a streaming producer once and resumes it once - buffering stays bounded", "[protocol]") {
  Streamer prod;  // declared first: the reactor's shutdown stops it
  fixture f;
  prod.total = 4 << 20;
  f.factory.on_made = [&](Recorder& p) {
    prod.t = p.transport;
    REQUIRE(p.transport->registerProducer(&prod, true));
    CHECK(p.transport->registerProducer(&prod, true).error() == errc::invalid_state);
    prod.pump(static_cast<tcp_transport&>(*p.transport));
  };
  auto got = f.px.run([](std::uint16_t port, Streamer& prod, OneShot& fac) -> task<std::size_t> {
    auto s = co_await connect("127.0.0.1", port);
    REQUIRE(s);
    // Do not read until the producer has been paused: the kernel buffers fill, ours reaches the mark.
    while (prod.pauses == 0) (void)co_await sleep_for(1ms);
    CHECK(prod.resumes == 0);
    // Now read, pumping the producer whenever it is resumed.
    std::vector<std::byte> buf(65536);
    std::size_t got = 0;
    while (got < prod.total) {
      auto n = co_await s.value().read_some(buf);
      REQUIRE(n);
      REQUIRE(n.value() > 0);
      got += n.value();
      if (!prod.paused && prod.sent < prod.total) prod.pump(static_cast<tcp_transport&>(*fac.made->transport));
    }
    co_return got;
  }(f.port_number(), prod, f.factory));
  CHECK(got == prod.total);
  CHECK(prod.pauses >= 1);
  CHECK(prod.resumes == prod.pauses);  // edge-triggered: one resume per pause
  // Never more than the mark plus one chunk (the write that crossed it).
  CHECK(prod.max_buffered <= f.factory.made->transport->highWaterMark + 16384);
}

TEST_CASE("a pull producer is asked at once and after each drain - loseConnection waits for unregisterProducer",
          "[protocol]") {
  struct Puller : IProducer {
    ITransport* t = nullptr;
    int resumes = 0, stops = 0;
    void resumeProducing() override {
      ++resumes;
      if (resumes <= 3) t->write("chunk" + std::to_string(resumes) + ";");
    }
    void stopProducing() override { ++stops; }
  } pull;  // declared first: the reactor's shutdown stops it
  fixture f;
  f.factory.on_made = [&](Recorder& p) {
    pull.t = p.transport;
    REQUIRE(p.transport->registerProducer(&pull, false));
    CHECK(pull.resumes == 1);  // immediately, as Twisted
    p.transport->loseConnection();
  };
  auto [data, how] = f.px.run([](std::uint16_t port, Puller& pull, OneShot& fac) -> task<std::pair<std::string, std::error_code>> {
    auto s = co_await connect("127.0.0.1", port);
    REQUIRE(s);
    while (pull.resumes < 4) (void)co_await nop();
    for (int i = 0; i < 10; ++i) (void)co_await nop();
    CHECK(fac.rec.lost.empty());  // still open: the pull producer holds the close
    fac.made->transport->unregisterProducer();
    co_return co_await read_to_end(s.value());
  }(f.port_number(), pull, f.factory));
  CHECK_FALSE(how);
  CHECK(data == "chunk1;chunk2;chunk3;");
}

TEST_CASE("an exception in dataReceived aborts that connection with application_error and the loop lives on",
          "[protocol]") {
  fixture f;
  f.factory.on_data = [](Recorder&, std::string_view d) {
    if (d.find("boom") != std::string_view::npos) throw std::runtime_error("boom in dataReceived");
  };
  auto [data, how] = f.px.run([](std::uint16_t port) -> task<std::pair<std::string, std::error_code>> {
    auto s = co_await connect("127.0.0.1", port);
    REQUIRE(s);
    const std::string msg = "boom";
    auto w = co_await s.value().write_all(std::as_bytes(std::span(msg)));
    REQUIRE(w);
    co_return co_await read_to_end(s.value());
  }(f.port_number()));
  CHECK(data.empty());
  f.px.run(until_lost(f.factory));
  const Failure why = f.factory.rec.lost.at(0);
  CHECK(why.check(errc::application_error));
  REQUIRE(why.exception());
  CHECK_THAT(why.getErrorMessage(), Catch::Contains("boom in dataReceived"));
  // The server still accepts and serves.
  f.factory.on_data = {};
  auto again = f.px.run([](std::uint16_t port) -> task<bool> {
    auto s = co_await connect("127.0.0.1", port);
    co_return static_cast<bool>(s);
  }(f.port_number()));
  CHECK(again);
}

TEST_CASE("pauseProducing holds received data until resumeProducing", "[protocol]") {
  fixture f;
  f.factory.on_made = [](Recorder& p) { p.transport->pauseProducing(); };  // honoured inside connectionMade
  f.px.run([](std::uint16_t port, OneShot& fac) -> task<void> {
    auto s = co_await connect("127.0.0.1", port);
    REQUIRE(s);
    const std::string msg = "held back";
    auto w = co_await s.value().write_all(std::as_bytes(std::span(msg)));
    REQUIRE(w);
    auto slept = co_await sleep_for(30ms);
    (void)slept;
    CHECK(fac.rec.received.empty());
    fac.made->transport->resumeProducing();
    while (fac.rec.received.size() < msg.size()) (void)co_await nop();
    CHECK(fac.rec.received == msg);
  }(f.port_number(), f.factory));
}

TEST_CASE("pauseProducing stops reading the socket - resumeProducing re-arms and every byte arrives", "[protocol]") {
  fixture f;
  bool paused = false;
  f.factory.on_data = [&paused](Recorder& p, std::string_view) {
    if (paused) return;
    paused = true;
    p.transport->pauseProducing();  // after the first chunk
  };
  // More than loopback's socket buffers hold: while the server does not read, the writer cannot finish.
  const std::string big = pattern(24 << 20);
  f.px.run([](std::uint16_t port, OneShot& fac, const std::string& big, proactor& px) -> task<void> {
    auto s = co_await connect("127.0.0.1", port);
    REQUIRE(s);
    bool written = false;
    task_group g;
    g.spawn([](tcp_stream& s, const std::string& big, bool& written) -> task<void> {
      auto w = co_await s.write_all(std::as_bytes(std::span(big)));
      CHECK(w);
      written = static_cast<bool>(w);
    }(s.value(), big, written));
    while (fac.rec.received.empty()) (void)co_await nop();
    for (int i = 0; i < 50; ++i) (void)co_await nop();
    const std::size_t seen = fac.rec.received.size();
    auto& ring = px.receive_buffers();
    // Paused: nothing delivered, at most a queue's worth taken from the ring, the socket left full.
    for (int i = 0; i < 50; ++i) (void)co_await nop();
    CHECK(fac.rec.received.size() == seen);
    CHECK(ring.count() - ring.available() <= px.config().recv_queue_limit);
    CHECK_FALSE(written);
    fac.made->transport->resumeProducing();
    while (fac.rec.received.size() < big.size()) (void)co_await nop();
    co_await g.join();
    CHECK(written);
    CHECK(fac.rec.received == big);
  }(f.port_number(), f.factory, big, f.px));
}

TEST_CASE("getPeer and getHost match the other side - writes after connectionLost are ignored", "[protocol]") {
  fixture f;
  f.px.run([](std::uint16_t port, OneShot& fac) -> task<void> {
    auto s = co_await connect("127.0.0.1", port);
    REQUIRE(s);
    while (!fac.made) (void)co_await nop();
    const auto local = s.value().local_endpoint().value();
    CHECK(fac.made->transport->getPeer() == Address{"TCP", "127.0.0.1", local.port()});
    CHECK(fac.made->transport->getHost() == Address{"TCP", "127.0.0.1", port});
    CHECK_FALSE(fac.made->transport->getTcpNoDelay());
    fac.made->transport->setTcpNoDelay(true);
    CHECK(fac.made->transport->getTcpNoDelay());
    ITransport* t = fac.made->transport;
    t->write("before the end");
    (void)s.value().close();
    while (fac.rec.lost.empty()) (void)co_await nop();
    CHECK(fac.rec.lost[0].is_clean());
  }(f.port_number(), f.factory));
}

namespace {
struct HalfCloser : Protocol, IHalfCloseableProtocol {
  std::vector<std::string>* events;
  std::string received;
  void dataReceived(std::string_view d) override { received.append(d); }
  void readConnectionLost() override {
    events->push_back("readConnectionLost " + received);
    transport->write("reply after your FIN");
    transport->loseConnection();
  }
  void writeConnectionLost() override { events->push_back("writeConnectionLost"); }
  void connectionLost(const Failure& r) override { events->push_back("connectionLost " + error_code_name(r.code())); }
};
}  // namespace

TEST_CASE("half-close - readConnectionLost instead of connectionLost and writing goes on", "[protocol]") {
  fixture f;
  std::vector<std::string> events;
  struct HCFactory : ServerFactory {
    std::vector<std::string>* events;
    std::unique_ptr<Protocol> buildProtocol(const Address&) override {
      auto p = std::make_unique<HalfCloser>();
      p->events = events;
      return p;
    }
  } hc;
  hc.events = &events;
  auto port = f.reactor.listenTCP(0, hc, 50, "127.0.0.1");
  REQUIRE(port);
  auto [data, how] = f.px.run([](std::uint16_t port) -> task<std::pair<std::string, std::error_code>> {
    auto s = co_await connect("127.0.0.1", port);
    REQUIRE(s);
    const std::string msg = "request";
    auto w = co_await s.value().write_all(std::as_bytes(std::span(msg)));
    REQUIRE(w);
    REQUIRE(s.value().shutdown_write());  // our FIN: the server's read side ends, its write side lives
    co_return co_await read_to_end(s.value());
  }(port.value()->getHost().port));
  CHECK_FALSE(how);
  CHECK(data == "reply after your FIN");
  f.px.run([](std::vector<std::string>& ev) -> task<void> {
    while (ev.size() < 2) (void)co_await nop();
  }(events));
  CHECK(events == std::vector<std::string>{"readConnectionLost request", "connectionLost connection_done"});
}

TEST_CASE("loseWriteConnection sends a FIN and tells a half-closeable protocol - later writes are dropped",
          "[protocol]") {
  fixture f;
  std::vector<std::string> events;
  struct Writer : HalfCloser {
    void connectionMade() override {
      transport->write("hello");
      transport->loseWriteConnection();
      transport->write("dropped");
    }
  };
  struct WFactory : ServerFactory {
    std::vector<std::string>* events;
    std::unique_ptr<Protocol> buildProtocol(const Address&) override {
      auto p = std::make_unique<Writer>();
      p->events = events;
      return p;
    }
  } wf;
  wf.events = &events;
  auto port = f.reactor.listenTCP(0, wf, 50, "127.0.0.1");
  REQUIRE(port);
  auto got = f.px.run([](std::uint16_t port, std::vector<std::string>& ev) -> task<std::string> {
    auto s = co_await connect("127.0.0.1", port);
    REQUIRE(s);
    std::string all;
    std::vector<std::byte> buf(1024);
    for (;;) {  // read up to the server's FIN
      auto n = co_await s.value().read_some(buf);
      REQUIRE(n);
      if (n.value() == 0) break;
      all.append(reinterpret_cast<const char*>(buf.data()), n.value());
    }
    while (ev.empty()) (void)co_await nop();
    CHECK(ev == std::vector<std::string>{"writeConnectionLost"});  // the connection is still up
    const std::string msg = "still reading";
    auto w = co_await s.value().write_all(std::as_bytes(std::span(msg)));
    REQUIRE(w);
    REQUIRE(s.value().shutdown_write());
    while (ev.size() < 3) (void)co_await nop();
    co_return all;
  }(port.value()->getHost().port, events));
  CHECK(got == "hello");
  CHECK(events == std::vector<std::string>{"writeConnectionLost", "readConnectionLost still reading",
                                           "connectionLost connection_done"});
}
