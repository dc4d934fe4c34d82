#include "torsion/core/scheduler.hpp"

namespace torsion {
namespace {
thread_local scheduler* tls_current = nullptr;
}

scheduler* scheduler::current() noexcept { return tls_current; }

scheduler* scheduler::exchange_current(scheduler* s) noexcept {
  scheduler* old = tls_current;
  tls_current = s;
  return old;
}

}  // namespace torsion
