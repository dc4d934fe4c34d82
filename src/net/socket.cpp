#include "torsion/net/socket.hpp"

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>


namespace torsion::net {

result<int> open_tcp_socket(int family) noexcept {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failure(errno_code(errno));
  return fd;
}

result<endpoint> local_endpoint_of(int fd) noexcept {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return failure(errno_code(errno));
  return endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

result<endpoint> peer_endpoint_of(int fd) noexcept {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return failure(errno_code(errno));
  return endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

result<void> set_bool_option(int fd, int level, int name, bool on) noexcept {
  const int v = on ? 1 : 0;
  if (::setsockopt(fd, level, name, &v, sizeof v) != 0) return failure(errno_code(errno));
  return success();
}

result<bool> get_bool_option(int fd, int level, int name) noexcept {
  int v = 0;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, level, name, &v, &len) != 0) return failure(errno_code(errno));
  return v != 0;
}

}  // namespace torsion::net
