#pragma once
// Wait for POSIX signals as an awaitable (signalfd read through the ring). Constructing a
// signal_set blocks those signals for the calling thread so they queue for the signalfd instead
// of running default handlers (create it before starting other threads so they inherit the mask);
// destroying it restores the thread's previous mask.
#include <sys/signalfd.h>

#include <initializer_list>

#include "torsion/core/result.hpp"
#include "torsion/core/task.hpp"
#include "torsion/io/proactor.hpp"

namespace torsion {

class signal_set {
 public:
  explicit signal_set(std::initializer_list<int> signals, proactor& px = proactor::current_or_throw());
  signal_set(const signal_set&) = delete;
  signal_set& operator=(const signal_set&) = delete;
  ~signal_set();

  // The number of the next signal delivered.
  task<result<int>> wait();

 private:
  proactor& px_;
  int fd_ = -1;
  signalfd_siginfo info_{};
  sigset_t previous_mask_{};
};

}  // namespace torsion
