#include "torsion/time/virtual_clock.hpp"

namespace torsion {

void virtual_clock::advance(duration d) {
  now_ += d;
  while (timer_entry* e = q_.top()) {
    if (e->deadline > now_) break;
    q_.pop();
    e->fire(*e);
  }
}

}  // namespace torsion
