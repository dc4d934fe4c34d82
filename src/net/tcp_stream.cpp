#include "torsion/net/tcp_stream.hpp"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "torsion/net/socket.hpp"

namespace torsion {

task<result<void>> tcp_stream::read_exactly(std::span<std::byte> buf) {
  std::size_t done = 0;
  while (done < buf.size()) {
    auto n = co_await read_some(buf.subspan(done));
    if (!n) co_return n.error();
    if (n.value() == 0) co_return failure(errc::connection_done);
    done += n.value();
  }
  co_return success();
}

task<result<void>> tcp_stream::write_all(std::span<const std::byte> buf) {
  std::size_t done = 0;
  while (done < buf.size()) {
    auto n = co_await write_some(buf.subspan(done));
    if (!n) co_return n.error();
    done += n.value();
  }
  co_return success();
}

task<result<void>> tcp_stream::write_all(std::span<const iovec> bufs) {
  // Work on a copy so a short write can trim the first unfinished buffer in place.
  std::vector<iovec> rest(bufs.begin(), bufs.end());
  std::size_t first = 0;
  while (first < rest.size()) {
    if (rest[first].iov_len == 0) {
      ++first;
      continue;
    }
    auto n = co_await write_some(std::span<const iovec>(rest).subspan(first));
    if (!n) co_return n.error();
    std::size_t sent = n.value();
    while (sent > 0 && first < rest.size()) {
      const std::size_t take = std::min(sent, rest[first].iov_len);
      rest[first].iov_base = static_cast<char*>(rest[first].iov_base) + take;
      rest[first].iov_len -= take;
      sent -= take;
      if (rest[first].iov_len == 0) ++first;
    }
  }
  co_return success();
}

result<void> tcp_stream::shutdown_write() noexcept {
  if (fd_ < 0) return failure(errno_code(EBADF));
  if (::shutdown(fd_, SHUT_WR) != 0) return failure(errno_code(errno));
  return success();
}

detail::receiver* tcp_stream::receiver() {
  if (!rx_ && fd_ >= 0) rx_ = new detail::receiver(*px_, fd_);
  return rx_;
}

result<void> tcp_stream::close() noexcept {
  if (fd_ < 0) return success();
  delete std::exchange(rx_, nullptr);  // cancels its multishot recv without waiting
  // A pending operation on a closed socket would never complete: cancel them first. Most streams
  // close with none pending, and then skip the (synchronous) cancel system call.
  if (px_->has_ops_on(fd_)) px_->cancel_fd(fd_);
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return failure(errno_code(errno));
  return success();
}

result<void> tcp_stream::abort() noexcept {
  if (fd_ < 0) return success();
  const linger l{.l_onoff = 1, .l_linger = 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  return close();
}

result<endpoint> tcp_stream::local_endpoint() const noexcept { return net::local_endpoint_of(fd_); }
result<endpoint> tcp_stream::peer_endpoint() const noexcept { return net::peer_endpoint_of(fd_); }
result<void> tcp_stream::set_no_delay(bool on) noexcept { return net::set_bool_option(fd_, IPPROTO_TCP, TCP_NODELAY, on); }
result<bool> tcp_stream::no_delay() const noexcept { return net::get_bool_option(fd_, IPPROTO_TCP, TCP_NODELAY); }
result<void> tcp_stream::set_keep_alive(bool on) noexcept {
  return net::set_bool_option(fd_, SOL_SOCKET, SO_KEEPALIVE, on);
}
result<bool> tcp_stream::keep_alive() const noexcept { return net::get_bool_option(fd_, SOL_SOCKET, SO_KEEPALIVE); }

}  // namespace torsion
