#include "torsion/protocols/timeout_mixin.hpp"

#include "torsion/protocol/protocol.hpp"
#include "torsion/time/real_clock.hpp"

namespace torsion::twisted {

TimeoutMixin::~TimeoutMixin() {
  if (timeoutCall_) (void)timeoutCall_->cancel();
}

std::optional<double> TimeoutMixin::setTimeout(std::optional<double> period) {
  const std::optional<double> prev = timeOut;
  timeOut = period;
  if (timeoutCall_) {
    if (!period) {
      (void)timeoutCall_->cancel();  // already cancelled or called is fine, as in Twisted
      timeoutCall_.reset();
    } else if (!timeoutCall_->reset(*period)) {
      // Cancelled from outside: Twisted would raise AlreadyCancelled here; start a fresh countdown.
      timeoutCall_ = callLater(*period, [this] { timedOut(); });
    }
  } else if (period) {
    timeoutCall_ = callLater(*period, [this] { timedOut(); });
  }
  return prev;
}

void TimeoutMixin::resetTimeout() {
  if (timeoutCall_ && timeOut) (void)timeoutCall_->reset(*timeOut);
}

void TimeoutMixin::timeoutConnection() {
  auto* p = dynamic_cast<BaseProtocol*>(this);
  if (p && p->transport) p->transport->loseConnection();
}

std::shared_ptr<DelayedCall> TimeoutMixin::callLater(double period, std::function<void()> fn) {
  return twisted::callLater(clock ? *clock : real_clock::current(), period, std::move(fn));
}

void TimeoutMixin::timedOut() {
  timeoutCall_.reset();
  timeoutConnection();
}

}  // namespace torsion::twisted
