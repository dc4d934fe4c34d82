#include "torsion/net/connect.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "torsion/net/resolver.hpp"
#include "torsion/net/socket.hpp"
#include "torsion/time/real_clock.hpp"
#include "torsion/time/with_timeout.hpp"

namespace torsion {
namespace {

std::error_code map_connect_error(const std::error_code& ec) {
  if (ec == std::errc::connection_refused) return make_error_code(errc::connection_refused);
  if (ec == std::errc::timed_out) return make_error_code(errc::timed_out);
  return ec;
}

task<result<tcp_stream>> connect_once(const endpoint& ep, const connect_options& opts,
                                      std::optional<clock_source::duration> budget) {
  proactor* current = proactor::current();
  if (!current) co_return failure(errc::invalid_state);
  proactor& px = *current;
  TORSION_CO_TRY(auto fd, net::open_tcp_socket(ep.family()));
  tcp_stream s(fd, px);  // owns fd from here: every early return closes it
  if (opts.bind_address) {
    sockaddr_storage ss{};
    const socklen_t len = opts.bind_address->to_sockaddr(ss);
    if (opts.bind_address->port() != 0) (void)net::set_bool_option(fd, SOL_SOCKET, SO_REUSEADDR, true);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) co_return failure(errc::connect_bind_failed);
  }
  ops::connect op{fd, {}, 0};
  op.len = ep.to_sockaddr(op.addr);
  io_op<ops::connect> aw(px, op);
  if (budget) aw.set_timeout(*budget);
  auto r = co_await std::move(aw);
  if (!r) co_return map_connect_error(r.error());
  // Connecting to a local port nobody listens on can, rarely, pick that same port as the source
  // and connect the socket to itself. That is a failed attempt, not a connection.
  // The peer is `ep` itself, so one getsockname() tells.
  auto local = s.local_endpoint();
  if (local && local.value() == ep) co_return failure(errc::self_connect);
  co_return std::move(s);
}

}  // namespace

task<result<tcp_stream>> connect(const endpoint& ep, connect_options opts) {
  co_return co_await connect_once(ep, opts, opts.timeout);
}

task<result<tcp_stream>> connect(std::string host, std::uint16_t port, connect_options opts) {
  if (!proactor::current()) co_return failure(errc::invalid_state);
  clock_source& c = real_clock::current();
  const auto start = c.now();
  result<std::vector<ip_address>> addrs = failure(errc::dns_lookup_failed);
  if (opts.timeout) {
    addrs = co_await with_timeout(resolve(std::move(host)), *opts.timeout, c);
  } else {
    addrs = co_await resolve(std::move(host));
  }
  if (!addrs) co_return addrs.error();
  std::error_code last = make_error_code(errc::dns_lookup_failed);
  for (const ip_address& a : addrs.value()) {
    std::optional<clock_source::duration> budget;
    if (opts.timeout) {
      budget = *opts.timeout - (c.now() - start);
      if (*budget <= clock_source::duration::zero()) co_return failure(errc::timed_out);
    }
    auto r = co_await connect_once(endpoint(a, port), opts, budget);
    if (r) co_return r;
    last = r.error();
    if (last == errc::operation_canceled || last == errc::timed_out) break;
  }
  co_return failure(last);
}

}  // namespace torsion
