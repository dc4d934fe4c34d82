// Torsion's callback layer (Reactor, ClientFactory, Protocol) as the client of a real Twisted server
// (tests/interop/twisted_server.py, run with /usr/bin/python3), on loopback. Each test starts the
// server itself, reads its "listening on 127.0.0.1:PORT" line, and stops it with SIGTERM at the end
// (it must exit 0). A watchdog task stops the reactor after 30 s, so no test can hang.
// Skips, with a warning, when /usr/bin/python3 cannot import twisted.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <torsion/connect/connector_event.hpp>
#include <torsion/protocol/reactor.hpp>
#include <torsion/time/sleep.hpp>
#include <vector>

#include "support/process.hpp"

using namespace torsion;
using namespace torsion::twisted;
using namespace std::chrono_literals;

namespace {

const std::string python = TORSION_INTEROP_PYTHON;

bool twisted_available() {
  static const bool available = [] {
    torsion_test::child_process probe({python, "-c", "import twisted.internet.reactor"});
    return probe.wait(30s) == std::optional<int>(0);
  }();
  return available;
}

// twisted_server.py as a child process: echoes, except that a stream that starts with exactly
// "Hello there" gets "General Kenobi" and then loseConnection.
class twisted_server {
 public:
  twisted_server() : proc_({python, std::string(TORSION_INTEROP_DIR) + "/twisted_server.py"}) {
    const auto line = proc_.read_line(20s);
    REQUIRE(line);
    std::smatch m;
    REQUIRE(std::regex_match(*line, m, std::regex(R"(listening on 127\.0\.0\.1:(\d+))")));
    port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
  }
  std::uint16_t port() const noexcept { return port_; }
  // SIGTERM: Twisted's reactor stops and the script exits 0, having printed nothing more.
  void stop() {
    proc_.signal(SIGTERM);
    CHECK(proc_.wait(10s) == std::optional<int>(0));
    CHECK_FALSE(proc_.read_line(100ms));
  }

 private:
  torsion_test::child_process proc_;
  std::uint16_t port_ = 0;
};

// A deterministic pseudo-random payload (splitmix64).
std::string payload_of(std::size_t n, std::uint64_t seed) {
  std::string s(n, '\0');
  std::uint64_t x = seed;
  for (std::size_t i = 0; i < n; i += 8) {
    x += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (std::size_t k = 0; k < 8 && i + k < n; ++k) s[i + k] = static_cast<char>((z >> (8 * k)) & 0xff);
  }
  return s;
}

// What the client side saw; owned by the test (protocols die with their transports).
struct client_record {
  std::vector<std::string> events;
  std::string received;
  std::size_t chunks = 0;
  std::size_t largest_chunk = 0;
  std::vector<Failure> lost;            // Protocol::connectionLost
  std::vector<Failure> factory_lost;    // ClientFactory::clientConnectionLost
  std::vector<Failure> factory_failed;  // ClientFactory::clientConnectionFailed
};

// Builds protocols with `make`, stops the reactor when the one connection ends or fails.
struct OneConnection : ClientFactory {
  OneConnection(Reactor& r, client_record& rec, std::function<std::unique_ptr<Protocol>()> make)
      : reactor(r), record(rec) {
    protocol = std::move(make);
  }
  void clientConnectionFailed(IConnector*, const Failure& reason) override {
    record.factory_failed.push_back(reason);
    reactor.stop();
  }
  void clientConnectionLost(IConnector*, const Failure& reason) override {
    record.factory_lost.push_back(reason);
    reactor.stop();
  }
  Reactor& reactor;
  client_record& record;
};

// Connect to 127.0.0.1:port, run the reactor until the connection is over (or 30 s have passed),
// and return whether the watchdog fired.
bool run_one_connection(std::uint16_t port, client_record& rec, std::function<std::unique_ptr<Protocol>()> make) {
  proactor px;
  Reactor reactor(px);
  OneConnection factory(reactor, rec, std::move(make));
  bool timed_out = false;
  reactor.tasks().spawn([](Reactor& r, bool& flag) -> task<void> {
    auto slept = co_await sleep_for(30s);
    if (slept) {
      flag = true;
      r.stop();
    }
  }(reactor, timed_out));
  auto connector = reactor.connectTCP("127.0.0.1", port, factory, 10);
  reactor.run();
  return timed_out;
}

std::string describe(const std::vector<Failure>& fs) {
  std::string s;
  for (auto& f : fs) s += error_code_name(f.code()) + " (" + f.getErrorMessage() + ") ";
  return s.empty() ? "none" : s;
}

// ---- 4 MiB echo ----

// One call on the transport: write(piece) or writeSequence(pieces). Pieces are [offset, size) of
// the payload; some are empty on purpose (Twisted ignores empty writes).
struct write_op {
  bool sequence = false;
  std::vector<std::pair<std::size_t, std::size_t>> pieces;
};

std::vector<write_op> plan_writes(std::size_t total) {
  static constexpr std::size_t single_sizes[] = {1, 65537, 0, 4096, 65536, 3, 300007, 1, 8191, 1 << 20, 17, 65535};
  static constexpr std::size_t sequence_sizes[] = {1, 0, 777, 65537, 5, 131072};
  std::vector<write_op> ops;
  std::size_t at = 0, i = 0;
  auto take = [&](std::size_t want) {
    const std::size_t n = std::min(want, total - at);
    std::pair<std::size_t, std::size_t> piece{at, n};
    at += n;
    return piece;
  };
  while (at < total) {
    write_op op;
    if (i % 3 == 2) {
      op.sequence = true;
      for (std::size_t size : sequence_sizes) op.pieces.push_back(take(size));
    } else {
      op.pieces.push_back(take(single_sizes[(i / 3 * 2 + i % 3) % std::size(single_sizes)]));
    }
    ops.push_back(std::move(op));
    ++i;
  }
  return ops;
}

struct echo_state {
  std::string payload;
  std::vector<write_op> ops;
  std::size_t next_op = 0;
  std::size_t sent = 0;
  std::size_t writes = 0, sequences = 0;
  std::size_t mismatch_at = std::string::npos;
  bool too_much = false;
};

// Keeps at most `window` bytes in flight: sends ops in connectionMade and then as the echo comes
// back, checks every byte as it arrives, and calls loseConnection once all of it is back.
struct EchoChecker : Protocol {
  static constexpr std::size_t window = 1 << 20;
  echo_state* st = nullptr;
  client_record* rec = nullptr;

  void send_more() {
    while (st->next_op < st->ops.size() && st->sent - rec->received.size() < window) {
      const write_op& op = st->ops[st->next_op++];
      std::vector<std::string_view> pieces;
      for (auto [off, n] : op.pieces) pieces.emplace_back(st->payload.data() + off, n);
      if (op.sequence) {
        transport->writeSequence(pieces);
        ++st->sequences;
      } else {
        transport->write(pieces.front());
        ++st->writes;
      }
      for (auto [off, n] : op.pieces) st->sent += n;
    }
  }
  void connectionMade() override {
    rec->events.push_back("connectionMade");
    send_more();
  }
  void dataReceived(std::string_view d) override {
    ++rec->chunks;
    rec->largest_chunk = std::max(rec->largest_chunk, d.size());
    const std::size_t at = rec->received.size();
    if (at + d.size() > st->payload.size()) {
      st->too_much = true;
      transport->abortConnection();
      return;
    }
    const auto [mine, theirs] =
        std::mismatch(d.begin(), d.end(), st->payload.begin() + static_cast<std::ptrdiff_t>(at));
    if (mine != d.end()) {
      st->mismatch_at = at + static_cast<std::size_t>(mine - d.begin());
      transport->abortConnection();
      return;
    }
    rec->received.append(d);
    if (rec->received.size() == st->payload.size()) {
      rec->events.push_back("all back");
      transport->loseConnection();
      return;
    }
    send_more();
  }
  void connectionLost(const Failure& reason) override {
    rec->events.push_back("connectionLost");
    rec->lost.push_back(reason);
  }
};

// ---- Hello there ----

struct Greeter : Protocol {
  client_record* rec = nullptr;
  void connectionMade() override {
    rec->events.push_back("connectionMade");
    const std::string_view parts[] = {"Hello", " ", "", "there"};
    transport->writeSequence(parts);
  }
  void dataReceived(std::string_view d) override {
    ++rec->chunks;
    rec->received.append(d);
  }
  void connectionLost(const Failure& reason) override {
    rec->events.push_back("connectionLost");
    rec->lost.push_back(reason);
  }
};

// ---- half-close ----

struct HalfCloser : Protocol, IHalfCloseableProtocol {
  const std::string* payload = nullptr;
  client_record* rec = nullptr;
  void connectionMade() override {
    rec->events.push_back("connectionMade");
    transport->write(*payload);
    transport->loseWriteConnection();  // flush, then FIN
    transport->write("dropped");       // after loseWriteConnection: never sent
  }
  void dataReceived(std::string_view d) override {
    ++rec->chunks;
    rec->largest_chunk = std::max(rec->largest_chunk, d.size());
    rec->received.append(d);
  }
  void writeConnectionLost() override { rec->events.push_back("writeConnectionLost"); }
  void readConnectionLost() override {
    rec->events.push_back("readConnectionLost " + std::to_string(rec->received.size()));
    transport->loseConnection();
  }
  void connectionLost(const Failure& reason) override {
    rec->events.push_back("connectionLost");
    rec->lost.push_back(reason);
  }
};

}  // namespace

TEST_CASE("A Torsion protocol echoes 4 MiB through a Twisted server in mixed writes and writeSequence", "[interop]") {
  if (!twisted_available()) {
    WARN("skipped: " << python << " cannot import twisted (install python3-twisted)");
    return;
  }
  twisted_server server;
  client_record rec;
  echo_state st;
  st.payload = payload_of(4 << 20, 0x7075727361756365ULL);
  st.ops = plan_writes(st.payload.size());
  const bool timed_out = run_one_connection(server.port(), rec, [&] {
    auto p = std::make_unique<EchoChecker>();
    p->st = &st;
    p->rec = &rec;
    return p;
  });
  INFO("sent " << st.sent << " in " << st.writes << " writes and " << st.sequences << " writeSequence calls; received "
               << rec.received.size() << " in " << rec.chunks << " chunks");
  INFO("connectionLost: " << describe(rec.lost) << "; clientConnectionLost: " << describe(rec.factory_lost)
                          << "; clientConnectionFailed: " << describe(rec.factory_failed));
  CHECK_FALSE(timed_out);
  CHECK(rec.factory_failed.empty());
  CHECK(st.mismatch_at == std::string::npos);
  CHECK_FALSE(st.too_much);
  CHECK(st.sent == st.payload.size());
  CHECK(st.sequences > 0);
  REQUIRE(rec.received.size() == st.payload.size());
  const bool same = rec.received == st.payload;  // not CHECK(a == b): it would print 4 MiB twice
  CHECK(same);
  CHECK(rec.largest_chunk <= 65536);  // dataReceived gets chunks of at most 64 KiB
  CHECK(rec.events == std::vector<std::string>{"connectionMade", "all back", "connectionLost"});
  REQUIRE(rec.lost.size() == 1);
  CHECK(rec.lost[0].is_clean());
  REQUIRE(rec.factory_lost.size() == 1);
  CHECK(rec.factory_lost[0].is_clean());
  server.stop();
}

TEST_CASE("A Twisted server's reply and loseConnection reach a Torsion protocol as data then a clean connectionLost",
          "[interop]") {
  if (!twisted_available()) {
    WARN("skipped: " << python << " cannot import twisted (install python3-twisted)");
    return;
  }
  twisted_server server;
  client_record rec;
  const bool timed_out = run_one_connection(server.port(), rec, [&] {
    auto p = std::make_unique<Greeter>();
    p->rec = &rec;
    return p;
  });
  INFO("connectionLost: " << describe(rec.lost) << "; clientConnectionLost: " << describe(rec.factory_lost)
                          << "; clientConnectionFailed: " << describe(rec.factory_failed));
  CHECK_FALSE(timed_out);
  CHECK(rec.factory_failed.empty());
  CHECK(rec.received == "General Kenobi");
  CHECK(rec.events == std::vector<std::string>{"connectionMade", "connectionLost"});
  REQUIRE(rec.lost.size() == 1);
  CHECK(rec.lost[0].is_clean());
  REQUIRE(rec.factory_lost.size() == 1);
  CHECK(rec.factory_lost[0].is_clean());
  server.stop();
}

TEST_CASE("Half-close with a Twisted server - loseWriteConnection then the echo then the server's clean close",
          "[interop]") {
  if (!twisted_available()) {
    WARN("skipped: " << python << " cannot import twisted (install python3-twisted)");
    return;
  }
  twisted_server server;
  client_record rec;
  const std::string payload = payload_of(256 << 10, 42);
  const bool timed_out = run_one_connection(server.port(), rec, [&] {
    auto p = std::make_unique<HalfCloser>();
    p->payload = &payload;
    p->rec = &rec;
    return p;
  });
  INFO("received " << rec.received.size() << " in " << rec.chunks << " chunks");
  INFO("connectionLost: " << describe(rec.lost) << "; clientConnectionLost: " << describe(rec.factory_lost)
                          << "; clientConnectionFailed: " << describe(rec.factory_failed));
  CHECK_FALSE(timed_out);
  CHECK(rec.factory_failed.empty());
  CHECK(rec.received.size() == payload.size());
  const bool same = rec.received == payload;  // everything before the FIN, nothing written after it
  CHECK(same);
  CHECK(rec.largest_chunk <= 65536);
  CHECK(rec.events == std::vector<std::string>{"connectionMade", "writeConnectionLost",
                                               "readConnectionLost " + std::to_string(payload.size()),
                                               "connectionLost"});
  REQUIRE(rec.lost.size() == 1);
  CHECK(rec.lost[0].is_clean());
  REQUIRE(rec.factory_lost.size() == 1);
  CHECK(rec.factory_lost[0].is_clean());
  server.stop();
}
