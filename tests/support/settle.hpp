#pragma once
// Waiting for a connection to come to rest: no byte moves any more between the kernel queues. And
// waiting, outside any event loop, for a condition in another process.
#include <unistd.h>

#include <chrono>

#include "torsion/core/task.hpp"
#include "torsion/time/sleep.hpp"

namespace torsion_test {

// True once `sample()` has returned the same value for `quiet` consecutive polls a millisecond
// apart; false if that has not happened within `limit`.
template <class F>
torsion::task<bool> until_settled(F sample, int quiet = 15,
                                  std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  auto last = sample();
  int same = 0;
  while (same < quiet) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    (void)co_await torsion::sleep_for(std::chrono::milliseconds(1));
    auto now = sample();
    same = now == last ? same + 1 : 0;
    last = now;
  }
  co_return true;
}

// Polls `pred` every few milliseconds, blocking, until it holds (true) or `limit` passes (false).
// For conditions another process brings about (a child server letting go of its sockets).
template <class F>
bool eventually(F pred, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    ::usleep(5000);
  }
  return true;
}

}  // namespace torsion_test
