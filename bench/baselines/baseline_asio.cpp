// baseline_asio: the echo server a C++ user would write with Boost.Asio's C++20 coroutines, for
// comparison with Torsion. One io_context on one thread, default (epoll) backend.
//   baseline_asio [--host 127.0.0.1] [--port 0]
#include <boost/asio.hpp>
#include <cstdio>

#include "baseline_common.h"

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

asio::awaitable<void> echo(tcp::socket socket) {
  char data[16384];
  try {
    for (;;) {
      const std::size_t n = co_await socket.async_read_some(asio::buffer(data), asio::use_awaitable);
      co_await asio::async_write(socket, asio::buffer(data, n), asio::use_awaitable);
    }
  } catch (const boost::system::system_error&) {
    // End of stream or a reset: the connection is done.
  }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      std::fprintf(stderr, "baseline_asio: accept: %s\n", ec.message().c_str());
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  baseline_args args{};
  baseline_parse_args(argc, argv, &args, nullptr, 0);
  // The shared helper binds (same address handling and messages as the C baselines); Asio takes it over.
  const int fd = baseline_listen("baseline_asio", &args, 0);

  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx);
  boost::system::error_code ec;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  acceptor.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
  if (ec) {
    std::fprintf(stderr, "baseline_asio: %s\n", ec.message().c_str());
    return 1;
  }

  asio::signal_set signals(ctx, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { ctx.stop(); });
  asio::co_spawn(ctx, listen(acceptor), asio::detached);
  baseline_announce(fd);
  ctx.run();
  return 0;
}
