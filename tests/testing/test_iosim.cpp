// IOPump / FakeTransport (after twisted.test.iosim): delivery in chunks, close and abort semantics,
// fault injection (reset, close mid-message, stall) and producer flow control at the water marks.
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <torsion/protocols/int_string_receiver.hpp>
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/testing/clock.hpp>
#include <torsion/testing/iosim.hpp>
#include <vector>

using namespace torsion;
using namespace torsion::twisted;
using torsion::testing::Clock;
using torsion::testing::FakeTransport;
using torsion::testing::IOPump;
using torsion::testing::PumpOptions;

namespace {

using log_t = std::vector<std::string>;

// Records everything that happens to it, into a log it may share with its peer.
struct Recorder : Protocol {
  std::string name;
  log_t* log;
  std::string data;
  std::vector<std::size_t> chunks;
  std::vector<Failure> lost;
  Recorder(std::string n, log_t& l) : name(std::move(n)), log(&l) {}
  void connectionMade() override { log->push_back(name + " connectionMade"); }
  void dataReceived(std::string_view d) override {
    data += d;
    chunks.push_back(d.size());
  }
  void connectionLost(const Failure& reason) override {
    lost.push_back(reason);
    log->push_back(name + " connectionLost");
  }
};

std::string pattern(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed + (i >> 9)) & 0xff);
  return s;
}

std::string int32_message(std::string_view payload) {
  std::string m(4, '\0');
  for (unsigned i = 0; i < 4; ++i) m[3 - i] = static_cast<char>((payload.size() >> (8 * i)) & 0xff);
  return m + std::string(payload);
}

struct Strings : Int32StringReceiver {
  std::vector<std::string> got;
  std::vector<Failure> lost;
  void stringReceived(std::string_view s) override { got.emplace_back(s); }
  void connectionLost(const Failure& r) override { lost.push_back(r); }
};

struct Lines : LineReceiver {
  std::vector<std::string> got;
  std::vector<Failure> lost;
  void lineReceived(std::string_view l) override { got.emplace_back(l); }
  void connectionLost(const Failure& r) override { lost.push_back(r); }
};

}  // namespace

TEST_CASE("IOPump connects the server first and gives each side its addresses", "[testing]") {
  log_t log;
  Recorder client("client", log), server("server", log);
  IOPump pump(client, server);
  CHECK(log == log_t{"server connectionMade", "client connectionMade"});
  CHECK(client.transport == &pump.clientTransport());
  CHECK(server.transport == &pump.serverTransport());
  CHECK(client.transport->getPeer() == server.transport->getHost());
  CHECK(server.transport->getPeer() == client.transport->getHost());
  CHECK(pump.serverTransport().isServer());
  CHECK_FALSE(pump.clientTransport().isServer());
}

TEST_CASE("IOPump delivers only when pumped and in the chunk sizes asked for", "[testing]") {
  const std::string msg = pattern(1000);
  for (const std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{7}}) {
    INFO("chunk " << chunk);
    log_t log;
    Recorder client("client", log), server("server", log);
    IOPump pump(client, server, {.chunk = chunk});
    client.transport->write(msg);
    CHECK(server.data.empty());  // never synchronously
    REQUIRE(pump.flush());
    CHECK(server.data == msg);
    for (std::size_t i = 0; i < server.chunks.size(); ++i) {
      if (chunk == 0)
        CHECK(server.chunks[i] == msg.size());
      else if (i + 1 < server.chunks.size())
        CHECK(server.chunks[i] == chunk);
      else
        CHECK(server.chunks[i] <= chunk);
    }
  }
}

TEST_CASE("IOPump random chunking is reproducible from its seed", "[testing]") {
  const std::string msg = pattern(5000);
  auto sizes = [&](std::uint64_t seed) {
    log_t log;
    Recorder client("client", log), server("server", log);
    IOPump pump(client, server, {.chunk = 50, .seed = seed});
    client.transport->write(msg);
    pump.flush();
    CHECK(server.data == msg);
    for (std::size_t n : server.chunks) CHECK((n >= 1 && n <= 50));
    return server.chunks;
  };
  CHECK(sizes(42) == sizes(42));
  CHECK(sizes(42) != sizes(43));
}

TEST_CASE("IOPump loseConnection delivers everything then connectionLost on both sides", "[testing]") {
  log_t log;
  Recorder client("client", log), server("server", log);
  IOPump pump(client, server, {.chunk = 3});
  client.transport->write("hello ");
  client.transport->loseConnection();
  client.transport->write("world");  // still delivered, as by the TCP transport
  pump.flush();
  CHECK(server.data == "hello world");
  CHECK(log ==
        log_t{"server connectionMade", "client connectionMade", "client connectionLost", "server connectionLost"});
  REQUIRE(client.lost.size() == 1);
  REQUIRE(server.lost.size() == 1);
  CHECK(client.lost[0].check(errc::connection_done));
  CHECK(server.lost[0].check(errc::connection_done));
  CHECK(pump.clientTransport().disconnected);
  CHECK(pump.serverTransport().disconnected);
  // After the close nothing moves and writes are dropped.
  server.transport->write("late");
  CHECK(pump.flush());
  CHECK(client.data.empty());
}

TEST_CASE("IOPump abortConnection drops unsent bytes and resets the peer", "[testing]") {
  log_t log;
  Recorder client("client", log), server("server", log);
  IOPump pump(client, server);
  client.transport->write(std::string(10000, 'X'));
  client.transport->abortConnection();
  client.transport->write(std::string(10000, 'Y'));
  CHECK(client.lost.empty());  // never from inside the transport call
  pump.flush();
  CHECK(server.data.empty());
  REQUIRE(client.lost.size() == 1);
  REQUIRE(server.lost.size() == 1);
  CHECK(client.lost[0].check(errc::connection_aborted));
  CHECK(server.lost[0].check(errc::connection_lost));
  CHECK(server.lost[0].osError() == ECONNRESET);
}

TEST_CASE("IOPump reset mid-message loses the connection on both sides", "[testing]") {
  // A 100-byte Int32 string, 7 bytes per delivery; the reset comes after 5 deliveries.
  Strings client, server;
  IOPump pump(client, server, {.chunk = 7});
  const std::string message = int32_message(pattern(100));
  client.transport->write(message);
  for (int i = 0; i < 5; ++i) REQUIRE(pump.pump());
  CHECK(server.recvd() == std::string_view(message).substr(0, 35));  // what came before the fault
  pump.reset();
  REQUIRE(client.lost.size() == 1);
  REQUIRE(server.lost.size() == 1);
  for (const Failure* f : {&client.lost[0], &server.lost[0]}) {
    CHECK(f->check(errc::connection_lost));
    CHECK(f->osError() == ECONNRESET);
    CHECK_FALSE(f->is_clean());
  }
  CHECK(server.got.empty());
  // Nothing moves afterwards: the rest of the message is gone.
  CHECK_FALSE(pump.pump());
  CHECK(server.recvd().size() == 35);
  pump.reset();  // a second reset does nothing
  CHECK(server.lost.size() == 1);
}

TEST_CASE("IOPump closeAfter ends the connection in the middle of a message", "[testing]") {
  for (const std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{4}}) {
    INFO("chunk " << chunk);
    Lines client, server;
    IOPump pump(client, server, {.chunk = chunk});
    client.transport->write("first\r\nhello world\r\nsecond line\r\n");
    pump.closeAfter(pump.clientTransport(), 17);  // "first\r\n" and "hello worl"
    pump.flush();
    CHECK(server.got == std::vector<std::string>{"first"});
    CHECK(server.buffered() == "hello worl");  // the partial message stays buffered
    REQUIRE(client.lost.size() == 1);
    REQUIRE(server.lost.size() == 1);
    CHECK(client.lost[0].check(errc::connection_done));
    CHECK(server.lost[0].check(errc::connection_done));
  }
}

TEST_CASE("IOPump stall holds a direction until it is released", "[testing]") {
  log_t log;
  Recorder client("client", log), server("server", log);
  IOPump pump(client, server, {.chunk = 5});
  pump.stall(pump.clientTransport());
  client.transport->write("from client");
  server.transport->write("from server");
  pump.flush();
  CHECK(server.data.empty());
  CHECK(client.data == "from server");  // the other direction flows
  CHECK(pump.clientTransport().pending() == 11);
  pump.stall(pump.clientTransport(), false);
  pump.flush();
  CHECK(server.data == "from client");
  CHECK(client.lost.empty());
}

TEST_CASE("IOPump pauseProducing on a transport stops deliveries to its protocol", "[testing]") {
  log_t log;
  Recorder client("client", log), server("server", log);
  IOPump pump(client, server, {.chunk = 4});
  server.transport->pauseProducing();
  client.transport->write("abcdefgh");
  pump.flush();
  CHECK(server.data.empty());
  server.transport->resumeProducing();
  pump.flush();
  CHECK(server.data == "abcdefgh");
}

namespace {

// A streaming producer that writes `piece` bytes at a time until `total`, whenever it is not paused.
struct PushProducer : IProducer {
  ITransport* t = nullptr;
  std::size_t piece, total, written = 0;
  bool paused = false;
  int pauses = 0, resumes = 0;
  PushProducer(std::size_t p, std::size_t n) : piece(p), total(n) {}
  void produce() {
    while (!paused && written < total) {
      const std::size_t n = std::min(piece, total - written);
      const std::string bytes = pattern(written + n).substr(written);
      written += n;
      t->write(bytes);
    }
  }
  void pauseProducing() override {
    paused = true;
    ++pauses;
  }
  void resumeProducing() override {
    paused = false;
    ++resumes;
    produce();
  }
  void stopProducing() override { paused = true; }
};

}  // namespace

TEST_CASE("IOPump pauses a streaming producer at the high-water mark and resumes it once drained", "[testing]") {
  for (const PumpOptions opts : {PumpOptions{.chunk = 512}, PumpOptions{.chunk = 1000, .seed = 9}}) {
    INFO("chunk " << opts.chunk);
    log_t log;
    Recorder client("client", log), server("server", log);
    IOPump pump(client, server, opts);
    FakeTransport& st = pump.serverTransport();
    st.highWaterMark = 8192;
    const std::size_t piece = 1000, total = 256 * 1024;
    PushProducer prod(piece, total);
    prod.t = &st;
    REQUIRE(st.registerProducer(&prod, true));
    prod.produce();
    CHECK(prod.pauses == 1);  // paused as soon as more than the mark was waiting
    pump.flush();
    CHECK(client.data == pattern(total));
    // The buffer never held more than the mark plus the write that crossed it.
    CHECK(st.maxPending > st.highWaterMark);
    CHECK(st.maxPending <= st.highWaterMark + piece);
    // Edge-triggered: one resume per pause (the last pause may end with the data).
    CHECK(prod.pauses >= 20);
    CHECK((prod.resumes == prod.pauses || prod.resumes + 1 == prod.pauses));
  }
}

TEST_CASE("IOPump asks a pull producer for more whenever the queue is empty", "[testing]") {
  struct PullProducer : IProducer {
    ITransport* t = nullptr;
    int resumes = 0;
    void resumeProducing() override {
      if (++resumes <= 3)
        t->write("chunk" + std::to_string(resumes) + ";");
      else
        t->unregisterProducer();
    }
    void stopProducing() override {}
  };
  log_t log;
  Recorder client("client", log), server("server", log);
  IOPump pump(client, server);
  PullProducer prod;
  prod.t = server.transport;
  REQUIRE(server.transport->registerProducer(&prod, false));
  pump.flush();
  CHECK(client.data == "chunk1;chunk2;chunk3;");
  CHECK(prod.resumes == 4);
}

TEST_CASE("IOPump advances its clock by 0 after every round", "[testing]") {
  // Twisted's IOPump.flush() runs clock.advance(0): a callLater(0) made while receiving runs.
  struct Deferring : Protocol {
    Clock* clock;
    std::string echoed;
    void dataReceived(std::string_view d) override {
      clock->callLater(0, [this, s = std::string(d)] { transport->write(s); });
    }
  };
  Clock clock;
  log_t log;
  Recorder client("client", log);
  Deferring server;
  server.clock = &clock;
  IOPump pump(client, server, {.clock = &clock});
  client.transport->write("ping");
  pump.flush();
  CHECK(client.data == "ping");
  CHECK(clock.pending() == 0);
}

TEST_CASE("IOPump half-close reaches a half-closeable peer", "[testing]") {
  struct HalfCloser : Recorder, IHalfCloseableProtocol {
    using Recorder::Recorder;
    void readConnectionLost() override { log->push_back(name + " readConnectionLost"); }
    void writeConnectionLost() override { log->push_back(name + " writeConnectionLost"); }
  };
  log_t log;
  HalfCloser client("client", log), server("server", log);
  IOPump pump(client, server, {.chunk = 2});
  client.transport->write("bye");
  client.transport->loseWriteConnection();
  client.transport->write("dropped");
  pump.flush();
  CHECK(server.data == "bye");
  CHECK(log == log_t{"server connectionMade", "client connectionMade", "client writeConnectionLost",
                     "server readConnectionLost"});
  // Reading goes on in the other direction.
  server.transport->write("still here");
  pump.flush();
  CHECK(client.data == "still here");
}
