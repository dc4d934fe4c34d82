#pragma once
// Test helpers: connected TCP socket pairs over loopback made with plain blocking syscalls, so
// io tests do not depend on the listener and connect code they may be testing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <utility>
#include <vector>

#include "torsion/net/address.hpp"

namespace torsion_test {

struct fd_pair {
  int a = -1;
  int b = -1;
  fd_pair() = default;
  fd_pair(int x, int y) : a(x), b(y) {}
  fd_pair(fd_pair&& o) noexcept : a(std::exchange(o.a, -1)), b(std::exchange(o.b, -1)) {}
  fd_pair& operator=(fd_pair&&) = delete;
  ~fd_pair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
  int release_a() { return std::exchange(a, -1); }
  int release_b() { return std::exchange(b, -1); }
};

inline fd_pair tcp_pair() {
  const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (::bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(l, 1) != 0 ||
      ::getsockname(l, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    throw std::runtime_error("tcp_pair: listen");
  const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(c, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) throw std::runtime_error("tcp_pair: connect");
  const int s = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(l);
  if (s < 0) throw std::runtime_error("tcp_pair: accept");
  return {c, s};
}

// Close with an RST: the peer's next read fails with ECONNRESET.
inline void close_with_reset(int fd) {
  const linger l{.l_onoff = 1, .l_linger = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

// Connect `n` non-blocking sockets to a listener that never accepts (listen with backlog 0): once its
// queue is full, further SYNs are dropped and a connection attempt stays in flight until its timeout.
// The caller closes the returned fds.
inline std::vector<int> fill_backlog(const sockaddr* addr, socklen_t len, int n = 4) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    const int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::connect(fd, addr, len);
    fds.push_back(fd);
  }
  return fds;
}

inline std::vector<int> fill_backlog(const torsion::endpoint& ep, int n = 4) {
  sockaddr_storage ss{};
  const socklen_t len = ep.to_sockaddr(ss);
  return fill_backlog(reinterpret_cast<const sockaddr*>(&ss), len, n);
}

}  // namespace torsion_test
