#pragma once
// What every example server shares: the echo_server command-line contract (--host, --port, one
// "listening on HOST:PORT" line, SIGINT/SIGTERM stop it with exit 0) in either style.
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <torsion/protocol/reactor.hpp>
#include <torsion/torsion.hpp>

namespace example {

// Resolve --host (a name or an address) to the endpoint to listen on; prints why not.
inline torsion::result<torsion::endpoint> listen_endpoint(torsion::proactor& px, const char* prog,
                                                          const std::string& host, std::uint16_t port) {
  auto addrs = px.run(torsion::resolve(host));
  if (!addrs) {
    std::fprintf(stderr, "%s: %s: %s\n", prog, host.c_str(), addrs.error().message().c_str());
    return addrs.error();
  }
  return torsion::endpoint(addrs.value().front(), port);
}

inline void print_listening(const torsion::endpoint& where) {
  std::printf("listening on %s\n", where.to_string().c_str());
  std::fflush(stdout);
}

// Accept until cancelled, running `serve` for each connection in `connections`. An accept error
// (EMFILE and friends) is reported, and accepting resumes after a short pause.
inline torsion::task<void> accept_loop(torsion::tcp_listener& listener, torsion::task_group& connections,
                                       std::function<torsion::task<void>(torsion::tcp_stream)> serve) {
  using namespace std::chrono_literals;
  for (;;) {
    auto s = co_await listener.accept();
    if (s) {
      connections.spawn(serve(std::move(s).value()));
      continue;
    }
    if (s.error() == torsion::errc::operation_canceled) co_return;
    std::fprintf(stderr, "accept: %s\n", s.error().message().c_str());
    auto slept = co_await torsion::sleep_for(100ms);
    if (!slept) co_return;
  }
}

// The coroutine style: listen, print the line, serve until SIGINT/SIGTERM, then close everything.
inline torsion::task<int> serve_coro(const char* prog, torsion::endpoint where,
                                     std::function<torsion::task<void>(torsion::tcp_stream)> serve) {
  torsion::signal_set stop_signals{SIGINT, SIGTERM};
  auto listener = torsion::tcp_listener::listen(where);
  if (!listener) {
    std::fprintf(stderr, "%s: cannot listen on %s: %s\n", prog, where.to_string().c_str(),
                 listener.error().message().c_str());
    co_return 1;
  }
  print_listening(listener.value().local_endpoint().value());
  torsion::task_group connections;
  co_await torsion::when_any(accept_loop(listener.value(), connections, std::move(serve)), stop_signals.wait());
  listener.value().close();
  connections.request_stop();
  co_await connections.join();
  co_return 0;
}

// The callback style: listenTCP with `factory`, print the line, reactor.run() until a signal.
inline int serve_callback(torsion::proactor& px, const char* prog, torsion::endpoint where,
                          torsion::twisted::Factory& factory) {
  torsion::twisted::Reactor reactor(px);
  auto listening = reactor.listenTCP(where.port(), factory, 128, where.address().to_string());
  if (!listening) {
    std::fprintf(stderr, "%s: cannot listen on %s: %s\n", prog, where.to_string().c_str(),
                 listening.error().message().c_str());
    return 1;
  }
  const torsion::twisted::Address host = listening.value()->getHost();
  print_listening(torsion::endpoint(torsion::ip_address::parse(host.host).value(), host.port));
  reactor.run();
  return 0;
}

}  // namespace example
