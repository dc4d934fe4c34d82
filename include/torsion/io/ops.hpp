#pragma once
// The closed set of operations Torsion submits. Keeping it enumerable leaves room for a
// readiness-based backend behind the same awaitables.
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>

#include "torsion/io/io_awaitable.hpp"

namespace torsion::ops {

// The result of an operation that transfers bytes.
inline result<std::size_t> byte_count(result<int> r) noexcept {
  if (!r) return r.error();
  return static_cast<std::size_t>(r.value());
}

struct nop {
  static constexpr bool user_memory = false;
  void prep(io_uring_sqe* sqe, detail::op_slot&) const noexcept { io_uring_prep_nop(sqe); }
  result<void> finish(result<int> r) const noexcept {
    if (!r) return r.error();
    return success();
  }
};

struct recv {
  static constexpr bool user_memory = true;
  result<std::size_t> finish(result<int> r) const noexcept { return byte_count(r); }
  int fd;
  std::span<std::byte> buf;
  void prep(io_uring_sqe* sqe, detail::op_slot&) const noexcept { io_uring_prep_recv(sqe, fd, buf.data(), buf.size(), 0); }
};

struct send {
  static constexpr bool user_memory = true;
  result<std::size_t> finish(result<int> r) const noexcept { return byte_count(r); }
  int fd;
  std::span<const std::byte> buf;
  void prep(io_uring_sqe* sqe, detail::op_slot&) const noexcept {
    io_uring_prep_send(sqe, fd, buf.data(), buf.size(), MSG_NOSIGNAL);
  }
};

// Vectored send: the iovecs and the msghdr are copied into the slot (at most max_iov of them).
struct sendmsg {
  static constexpr bool user_memory = true;
  result<std::size_t> finish(result<int> r) const noexcept { return byte_count(r); }
  int fd;
  std::span<const iovec> iov;
  void prep(io_uring_sqe* sqe, detail::op_slot& s) const noexcept {
    const std::size_t n = std::min<std::size_t>(iov.size(), detail::max_iov);
    std::copy_n(iov.begin(), n, s.vec.iov);
    std::memset(&s.vec.msg, 0, sizeof s.vec.msg);
    s.vec.msg.msg_iov = s.vec.iov;
    s.vec.msg.msg_iovlen = n;
    io_uring_prep_sendmsg(sqe, fd, &s.vec.msg, MSG_NOSIGNAL);
  }
};

struct accepted {
  int fd;
  sockaddr_storage peer;
  socklen_t peer_len;
};

struct accept {
  static constexpr bool user_memory = false;
  int fd;
  sockaddr_storage peer{};
  socklen_t peer_len = 0;
  void prep(io_uring_sqe* sqe, detail::op_slot& s) const noexcept {
    s.addrlen = sizeof s.addr;
    io_uring_prep_accept(sqe, fd, reinterpret_cast<sockaddr*>(&s.addr), &s.addrlen, SOCK_CLOEXEC);
  }
  void copy_out(const detail::op_slot& s) noexcept {
    peer = s.addr;
    peer_len = s.addrlen;
  }
  result<accepted> finish(result<int> r) const noexcept {
    if (!r) return r.error();
    return accepted{r.value(), peer, peer_len};
  }
};

struct connect {
  static constexpr bool user_memory = false;
  int fd;
  sockaddr_storage addr;
  socklen_t len;
  void prep(io_uring_sqe* sqe, detail::op_slot& s) const noexcept {
    s.addr = addr;
    s.addrlen = len;
    io_uring_prep_connect(sqe, fd, reinterpret_cast<const sockaddr*>(&s.addr), s.addrlen);
  }
  result<void> finish(result<int> r) const noexcept {
    if (!r) return r.error();
    return success();
  }
};

// Read from any fd (eventfd, signalfd, pipe) into caller memory.
struct read {
  static constexpr bool user_memory = true;
  result<std::size_t> finish(result<int> r) const noexcept { return byte_count(r); }
  int fd;
  std::span<std::byte> buf;
  void prep(io_uring_sqe* sqe, detail::op_slot&) const noexcept { io_uring_prep_read(sqe, fd, buf.data(), buf.size(), 0); }
};

}  // namespace torsion::ops

namespace torsion {

template <class Op>
using io_op = detail::io_awaitable<Op>;

// A no-op round trip through the ring (tests and micro-benchmarks).
inline io_op<ops::nop> nop(proactor& px = proactor::current_or_throw()) { return io_op<ops::nop>(px); }

}  // namespace torsion
