// The echo server, in either style.
//   echo_server [--host 127.0.0.1] [--port 0] [--style coro|callback]
// Prints one line "listening on HOST:PORT" once ready. SIGINT/SIGTERM shut it down gracefully and it
// exits 0: it stops accepting at once, stops reading, echoes everything it has already read, sends
// its FIN, discards input until the client's FIN (at most 2 s, so that closing with unread input
// cannot reset the connection and destroy echoes still in flight), closes, and prints on stderr
//   echo_server: shut down: C connections, R bytes read, E bytes echoed, D bytes discarded
// where E == R unless a client vanished while its echo was being sent.
#include <chrono>
#include <cstdio>
#include <set>
#include <torsion/protocol/reactor.hpp>
#include <torsion/torsion.hpp>

#include "common/cli.hpp"
#include "common/server.hpp"

using namespace torsion;
using namespace std::chrono_literals;

struct echo_stats {
  unsigned long long connections = 0, read = 0, echoed = 0, discarded = 0;
  void print() const {
    std::fprintf(stderr,
                 "echo_server: shut down: %llu connections, %llu bytes read, %llu bytes echoed, %llu bytes discarded\n",
                 connections, read, echoed, discarded);
  }
};
constexpr auto linger_limit = 2s;

// Echo until the end of the stream, an error, or shutdown. receive() lends the proactor's ring
// buffers (no copy); it runs under the shutdown token, so shutdown ends the next receive with
// operation_canceled. Writes are shielded from that token: whatever was received is echoed.
task<void> echo_until_shutdown(tcp_stream& s, echo_stats& stats, bool& write_failed) {
  for (;;) {
    auto b = co_await s.receive();
    if (!b) co_return;
    stats.read += b.value().size();
    auto written = co_await s.write_all(b.value().bytes()).with_stop_token(no_stop_token);
    if (!written) {
      write_failed = true;
      co_return;
    }
    stats.echoed += b.value().size();
  }
}

// After the FIN: drop what arrives until the client's FIN.
task<void> discard_until_end(tcp_stream& s, echo_stats& stats) {
  for (;;) {
    auto b = co_await s.receive();
    if (!b) co_return;
    stats.discarded += b.value().size();
  }
}

task<void> echo(tcp_stream s, const std::stop_token& shutting_down, echo_stats& stats) {
  ++stats.connections;
  bool write_failed = false;
  co_await echo_until_shutdown(s, stats, write_failed).with_stop_token(shutting_down);
  if (write_failed || !shutting_down.stop_requested() || !s.shutdown_write()) co_return;
  (void)co_await with_timeout(discard_until_end(s, stats), linger_limit);
}

task<int> serve(std::string host, std::uint16_t port) {
  signal_set stop_signals{SIGINT, SIGTERM};
  auto addrs = co_await resolve(host);
  if (!addrs) {
    std::fprintf(stderr, "echo_server: %s: %s\n", host.c_str(), addrs.error().message().c_str());
    co_return 1;
  }
  auto listener = tcp_listener::listen(endpoint(addrs.value().front(), port));
  if (!listener) {
    std::fprintf(stderr, "echo_server: cannot listen on %s:%u: %s\n", host.c_str(), port,
                 listener.error().message().c_str());
    co_return 1;
  }
  example::print_listening(listener.value().local_endpoint().value());

  echo_stats stats;
  std::stop_source shutdown;
  // A named token: every connection keeps a reference to it until it has wound down.
  const std::stop_token shutting_down = shutdown.get_token();
  task_group connections;  // never stopped as a whole: each connection winds down by itself
  co_await when_any(example::accept_loop(listener.value(), connections,
                                         [&](tcp_stream s) { return echo(std::move(s), shutting_down, stats); }),
                    stop_signals.wait());
  listener.value().close();
  shutdown.request_stop();
  co_await connections.join();
  stats.print();
  co_return 0;
}

// The callback style: Twisted's Echo protocol, plus what a graceful shutdown needs.
class EchoFactory;

class Echo : public twisted::Protocol, public twisted::IHalfCloseableProtocol {
 public:
  explicit Echo(EchoFactory& f) : owner(f) {}
  void connectionMade() override;
  void dataReceived(std::string_view data) override;
  void connectionLost(const twisted::Failure& reason) override;
  // The client sent its FIN (or answered ours): echo what is buffered, then close.
  void readConnectionLost() override { transport->loseConnection(); }
  void writeConnectionLost() override {}
  // Shutdown: stop echoing, flush, send the FIN; what still arrives is dropped.
  void windDown() {
    closing = true;
    transport->loseWriteConnection();
  }

 private:
  EchoFactory& owner;
  bool closing = false;
  unsigned long long written = 0;
};

class EchoFactory : public twisted::ServerFactory {
 public:
  explicit EchoFactory(twisted::Reactor& r) : reactor(r) {}
  std::unique_ptr<twisted::Protocol> buildProtocol(const twisted::Address&) override {
    if (shutting_down) return nullptr;
    ++stats.connections;
    return std::make_unique<Echo>(*this);
  }
  void shutdown(twisted::IListeningPort& port) {
    shutting_down = true;
    port.stopListening();
    for (Echo* e : live) e->windDown();
    // Clients that never send their FIN are cut off after the linger limit.
    cutoff = reactor.callLater(std::chrono::duration<double>(linger_limit).count(), [this] {
      for (Echo* e : live) e->transport->abortConnection();
    });
    stop_when_idle();
  }
  void stop_when_idle() {
    if (!shutting_down || !live.empty()) return;
    if (cutoff && cutoff->active()) (void)cutoff->cancel();
    reactor.stop();
  }

  twisted::Reactor& reactor;
  std::set<Echo*> live;
  std::shared_ptr<twisted::DelayedCall> cutoff;
  echo_stats stats;
  bool shutting_down = false;
};

void Echo::connectionMade() { owner.live.insert(this); }

void Echo::dataReceived(std::string_view data) {
  if (closing) {
    owner.stats.discarded += data.size();
    return;
  }
  owner.stats.read += data.size();
  written += data.size();
  transport->write(data);
}

void Echo::connectionLost(const twisted::Failure& reason) {
  if (reason.is_clean()) owner.stats.echoed += written;  // a clean close flushed every write
  owner.live.erase(this);
  owner.stop_when_idle();
}

int serve_callback(proactor& px, const std::string& host, std::uint16_t port) {
  auto addrs = px.run(resolve(host));
  if (!addrs) {
    std::fprintf(stderr, "echo_server: %s: %s\n", host.c_str(), addrs.error().message().c_str());
    return 1;
  }
  signal_set signals{SIGINT, SIGTERM};  // before "listening on": a signal from then on is ours
  twisted::Reactor reactor(px);
  EchoFactory factory(reactor);
  auto listening = reactor.listenTCP(port, factory, 128, addrs.value().front().to_string());
  if (!listening) {
    std::fprintf(stderr, "echo_server: cannot listen on %s:%u: %s\n", host.c_str(), port,
                 listening.error().message().c_str());
    return 1;
  }
  twisted::IListeningPort& where = *listening.value();
  const twisted::Address host_addr = where.getHost();
  example::print_listening(endpoint(ip_address::parse(host_addr.host).value(), host_addr.port));
  // Our own signal handling instead of run()'s, which would drop every connection at once.
  reactor.callWhenRunning([&] {
    reactor.tasks().spawn([](signal_set& signals, EchoFactory& f, twisted::IListeningPort& p) -> task<void> {
      auto sig = co_await signals.wait();
      if (sig) f.shutdown(p);
    }(signals, factory, where));
  });
  reactor.run(false);
  factory.stats.print();
  return 0;
}

int main(int argc, char** argv) {
  example::cli args(argc, argv, {"host", "port", "style"});
  const std::string style = args.str("style", "coro");
  if (style != "coro" && style != "callback") {
    std::fprintf(stderr, "echo_server: --style must be coro or callback\n");
    return 2;
  }
  auto px = proactor::create();
  if (!px) {
    std::fprintf(stderr, "echo_server: %s\n", px.error().message().c_str());
    return 1;
  }
  const std::string host = args.str("host", "127.0.0.1");
  const auto port = args.num<std::uint16_t>("port", 0, 0, 65535);
  if (style == "callback") return serve_callback(*px.value(), host, port);
  return px.value()->run(serve(host, port));
}
