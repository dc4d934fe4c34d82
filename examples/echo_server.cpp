// The echo server, in either style.
//   echo_server [--host 127.0.0.1] [--port 0] [--style coro|callback]
// Prints one line "listening on HOST:PORT" once ready; SIGINT/SIGTERM stop it (exit 0).
#include <chrono>
#include <cstdio>
#include <torsion/protocol/reactor.hpp>
#include <torsion/torsion.hpp>

#include "common/cli.hpp"

using namespace torsion;
using namespace std::chrono_literals;

// Zero-copy: each chunk arrives in one of the proactor's ring buffers and is sent back from there;
// the buffer returns to the ring when `chunk` goes out of scope.
task<void> echo(tcp_stream s) {
  for (;;) {
    auto chunk = co_await s.receive();
    if (!chunk) co_return;  // end of stream (connection_done) or an error: drop the connection
    auto written = co_await s.write_all(chunk.value().bytes());
    if (!written) co_return;
  }
}

task<void> accept_loop(tcp_listener& listener, task_group& connections) {
  for (;;) {
    auto s = co_await listener.accept();
    if (s) {
      connections.spawn(echo(std::move(s).value()));
      continue;
    }
    if (s.error() == errc::operation_canceled) co_return;
    // EMFILE and friends: say so, give descriptors a moment to free up, keep serving.
    std::fprintf(stderr, "accept: %s\n", s.error().message().c_str());
    auto slept = co_await sleep_for(100ms);
    if (!slept) co_return;
  }
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
  std::printf("listening on %s\n", listener.value().local_endpoint().value().to_string().c_str());
  std::fflush(stdout);

  task_group connections;
  co_await when_any(accept_loop(listener.value(), connections), stop_signals.wait());
  listener.value().close();
  connections.request_stop();
  co_await connections.join();
  co_return 0;
}

// The callback style: Twisted's Echo protocol, ported line for line.
class Echo : public twisted::Protocol {
 public:
  void dataReceived(std::string_view data) override { transport->write(data); }
};

int serve_callback(proactor& px, const std::string& host, std::uint16_t port) {
  auto addrs = px.run(resolve(host));
  if (!addrs) {
    std::fprintf(stderr, "echo_server: %s: %s\n", host.c_str(), addrs.error().message().c_str());
    return 1;
  }
  twisted::Reactor reactor(px);
  auto factory = twisted::Factory::forProtocol<Echo, twisted::ServerFactory>();
  auto listening = reactor.listenTCP(port, *factory, 128, addrs.value().front().to_string());
  if (!listening) {
    std::fprintf(stderr, "echo_server: cannot listen on %s:%u: %s\n", host.c_str(), port,
                 listening.error().message().c_str());
    return 1;
  }
  const twisted::Address where = listening.value()->getHost();
  std::printf("listening on %s\n", endpoint(ip_address::parse(where.host).value(), where.port).to_string().c_str());
  std::fflush(stdout);
  reactor.run();
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
