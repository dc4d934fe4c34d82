#pragma once
// Waiting for a connection to come to rest: no byte moves any more between the kernel queues.
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

}  // namespace torsion_test
