// A server killed with SIGKILL mid-stream and restarted on the same port: a callback
// ReconnectingClientFactory client and a coroutine reconnecting_client both reconnect with the
// policy's delays and resume sending, and lose nothing they had sent: a message is acknowledged when
// its echo has come back, unacknowledged messages are sent again on the next connection, and in
// the end every message has been acknowledged exactly once, in order on each connection.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <deque>
#include <memory>
#include <set>
#include <torsion/protocol/reactor.hpp>
#include <torsion/protocol/reconnecting_client_factory.hpp>
#include <torsion/torsion.hpp>

#include "support/example_server.hpp"
#include "support/process.hpp"

using namespace torsion;
using namespace std::chrono_literals;
using kind = connector_event_kind;

namespace {

constexpr std::size_t message_size = 16, total_messages = 600, kill_after = 250, window = 8;

std::string message(std::size_t id) {
  char buf[message_size + 1];
  std::snprintf(buf, sizeof buf, "m%014zu\n", id);
  return std::string(buf, message_size);
}

// The client's books: what was sent on the current connection and is not yet echoed, what was
// acknowledged, and what must be sent again after a reconnect.
struct ledger {
  std::size_t next = 0;               // the next new message
  std::deque<std::size_t> in_flight;  // sent on this connection, in order, echo pending
  std::set<std::size_t> unacked, acked;
  std::string partial;
  std::size_t resent = 0, duplicate_acks = 0, mismatches = 0, connections = 0;

  // A new connection: everything unacknowledged goes out again first.
  std::string begin_connection() {
    ++connections;
    in_flight.clear();
    partial.clear();
    std::string out;
    for (std::size_t id : unacked) {
      out += message(id);
      in_flight.push_back(id);
      ++resent;
    }
    return out + more();
  }
  std::string more() {
    std::string out;
    while (in_flight.size() < window && next < total_messages) {
      out += message(next);
      unacked.insert(next);
      in_flight.push_back(next++);
    }
    return out;
  }
  void on_data(std::string_view d) {
    partial.append(d);
    while (partial.size() >= message_size) {
      const std::string echo = partial.substr(0, message_size);
      partial.erase(0, message_size);
      if (in_flight.empty() || echo != message(in_flight.front())) {
        ++mismatches;
        continue;
      }
      const std::size_t id = in_flight.front();
      in_flight.pop_front();
      unacked.erase(id);
      if (!acked.insert(id).second) ++duplicate_acks;
    }
  }
  bool done() const { return acked.size() == total_messages; }
};

// The echo_server processes, one after another on one port, and the kill/restart choreography:
// kill once `kill_after` messages are acknowledged, restart after the second failed attempt.
struct servers {
  std::uint16_t port = 0;
  std::vector<std::unique_ptr<torsion_test::child_process>> procs;
  bool killed = false, restarted = false;
  std::size_t failures_since_kill = 0;

  servers() {
    // A free port: bind port 0, note it, let it go.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    ::close(fd);
    port = ntohs(sa.sin_port);
  }
  void start() {
    procs.push_back(std::make_unique<torsion_test::child_process>(
        std::vector<std::string>{torsion_test::example_path("echo_server"), "--port", std::to_string(port)}));
  }
  bool wait_listening() { return procs.back()->read_line(10s).has_value(); }
  void maybe_kill(const ledger& l) {
    if (killed || l.acked.size() < kill_after) return;
    killed = true;
    procs.back()->signal(SIGKILL);
    procs.back()->wait(5s);
  }
  void on_event(const connector_event& e) {
    if (killed && !restarted && e.kind == kind::failed && ++failures_since_kill == 2) {
      restarted = true;
      start();  // not waited for: the client finds it when it listens
    }
  }
};

// After the loss: retry delays 0.1, 0.2, 0.4 ... (initial 0.05 times factor 2, no jitter, reset on
// each connection), each next attempt starting when its delay has passed.
void check_policy(const std::vector<connector_event>& events) {
  auto lost = std::find_if(events.begin(), events.end(), [](auto& e) { return e.kind == kind::lost; });
  REQUIRE(lost != events.end());
  double expected = 0.1;
  int retries = 0;
  for (auto it = lost; it != events.end(); ++it) {
    if (it->kind == kind::connected) break;
    if (it->kind != kind::retry) continue;
    ++retries;
    CHECK(it->delay == delay_from_seconds(expected));
    auto attempt = std::find_if(it, events.end(), [](auto& e) { return e.kind == kind::attempt; });
    REQUIRE(attempt != events.end());
    const auto waited = attempt->at - it->at;
    INFO("retry " << retries << " delay " << expected << " s, waited " << std::chrono::duration<double>(waited).count()
                  << " s");
    CHECK(waited >= *it->delay);
    CHECK(waited < *it->delay + 150ms);  // the loop is idle: the timer is not late by much
    expected *= 2;
  }
  CHECK(retries >= 3);  // the loss, then two refused attempts while the server was down
}

void check_books(const ledger& l) {
  CHECK(l.done());
  CHECK(l.unacked.empty());
  CHECK(l.mismatches == 0);
  CHECK(l.duplicate_acks == 0);
  CHECK(l.connections >= 2);
}

// The callback client: Twisted's ReconnectingClientFactory with an echo-acknowledged protocol.
struct AckProtocol : twisted::Protocol {
  ledger* books = nullptr;
  servers* srv = nullptr;
  std::function<void()> finished;
  void connectionMade() override { transport->write(books->begin_connection()); }
  void dataReceived(std::string_view d) override {
    books->on_data(d);
    srv->maybe_kill(*books);
    if (books->done()) return finished();
    transport->write(books->more());
  }
};

struct AckFactory : twisted::ReconnectingClientFactory {
  ledger books;
  servers* srv = nullptr;
  twisted::Reactor* reactor = nullptr;
  std::unique_ptr<twisted::Protocol> buildProtocol(const twisted::Address&) override {
    resetDelay();  // a good connection: the next loss starts from the first delay again
    auto p = std::make_unique<AckProtocol>();
    p->factory = this;
    p->books = &books;
    p->srv = srv;
    p->finished = [this, p = p.get()] {
      stopTrying();
      p->transport->loseConnection();
      reactor->stop();
    };
    return p;
  }
};

}  // namespace

TEST_CASE("ReconnectingClientFactory survives a SIGKILLed server - policy delays - nothing acknowledged lost",
          "[examples][faults]") {
  servers srv;
  srv.start();
  REQUIRE(srv.wait_listening());
  proactor px;
  twisted::Reactor reactor(px);
  AckFactory f;
  f.srv = &srv;
  f.reactor = &reactor;
  f.initialDelay = f.delay = 0.05;
  f.factor = 2;
  f.jitter = 0;
  f.maxDelay = 5;
  std::vector<connector_event> events;
  auto c = reactor.connectTCP("127.0.0.1", srv.port, f);
  static_cast<twisted::Connector&>(*c).engine().set_observer([&](const connector_event& e) {
    events.push_back(e);
    srv.on_event(e);
  });
  auto guard = reactor.callLater(30, [&] { reactor.stop(); });  // a bound, should the client hang
  reactor.run(false);
  if (guard->active()) (void)guard->cancel();
  CHECK(srv.killed);
  CHECK(srv.restarted);
  check_books(f.books);
  check_policy(events);
  WARN("callback client: " << f.books.connections << " connections, " << f.books.resent
                           << " unacknowledged messages sent again after the kill");
}

TEST_CASE("reconnecting_client survives a SIGKILLed server - policy delays - nothing acknowledged lost",
          "[examples][faults]") {
  servers srv;
  srv.start();
  REQUIRE(srv.wait_listening());
  proactor px;
  ledger books;
  std::vector<connector_event> events;
  auto policy = std::make_unique<twisted_backoff>();
  policy->initial_delay = policy->delay = 0.05;
  policy->factor = 2;
  policy->jitter = 0;
  policy->max_delay = 5;
  reconnecting_client client(
      {.host = "127.0.0.1", .port = srv.port, .policy = std::move(policy), .on_event = [&](const connector_event& e) {
         events.push_back(e);
         srv.on_event(e);
       }});
  auto r = px.run([](reconnecting_client& client, ledger& books, servers& srv) -> task<result<void>> {
    co_return co_await with_timeout(client.run([&](tcp_stream& s) -> task<result<void>> {
      client.reset_delay();  // a good connection: the next loss starts from the first delay again
      std::string out = books.begin_connection();
      std::vector<std::byte> buf(4096);
      for (;;) {
        if (!out.empty()) {
          auto w = co_await s.write_all(std::as_bytes(std::span(out)));
          if (!w) co_return w.error();
        }
        if (books.done()) {
          client.stop_trying();
          co_return success();
        }
        auto n = co_await s.read_some(buf);
        if (!n) co_return n.error();
        if (n.value() == 0) co_return failure(errc::connection_done);
        books.on_data(std::string_view(reinterpret_cast<const char*>(buf.data()), n.value()));
        srv.maybe_kill(books);
        out = books.more();
      }
    }),
                                    30s);
  }(client, books, srv));
  CHECK(r);
  CHECK(srv.killed);
  CHECK(srv.restarted);
  check_books(books);
  check_policy(events);
  WARN("coroutine client: " << books.connections << " connections, " << books.resent
                            << " unacknowledged messages sent again after the kill");
}
