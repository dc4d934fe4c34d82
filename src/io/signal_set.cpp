#include "torsion/io/signal_set.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "torsion/io/ops.hpp"

namespace torsion {

signal_set::signal_set(std::initializer_list<int> signals, proactor& px) : px_(px) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  if (pthread_sigmask(SIG_BLOCK, &set, &previous_mask_) != 0) throw std::system_error(errno_code(errno), "pthread_sigmask");
  fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd_ < 0) throw std::system_error(errno_code(errno), "signalfd");
}

signal_set::~signal_set() {
  if (fd_ >= 0) {
    px_.cancel_fd(fd_);
    ::close(fd_);
  }
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

task<result<int>> signal_set::wait() {
  auto buf = std::as_writable_bytes(std::span(&info_, 1));
  auto n = co_await io_op<ops::read>(px_, fd_, buf);
  if (!n) co_return n.error();
  if (n.value() != sizeof info_) co_return failure(errno_code(EIO));
  co_return static_cast<int>(info_.ssi_signo);
}

}  // namespace torsion
