#pragma once
// Twisted's policies.TimeoutMixin (twisted-semantics §4.5): call timeoutConnection() after timeOut
// seconds without resetTimeout(). Mix it into a protocol and call resetTimeout() when data arrives.
// setTimeout returns the previous value; std::nullopt is Python's None (no timeout). timeOut keeps
// its value after the timeout fires, as in Twisted. Set `clock` (a testing::Clock in tests; null
// means the proactor's real clock) instead of overriding Twisted's callLater.
//
// The mixin cancels its pending call when destroyed, so the call can never outlive the protocol.
#include <functional>
#include <memory>
#include <optional>

#include "torsion/protocol/delayed_call.hpp"

namespace torsion::twisted {

class TimeoutMixin {
 public:
  std::optional<double> timeOut;
  clock_source* clock = nullptr;

  virtual ~TimeoutMixin();

  // Change the timeout (nullopt cancels it) and return the previous one.
  std::optional<double> setTimeout(std::optional<double> period);
  // Restart the countdown if one is running.
  void resetTimeout();
  // Called when the time is up. The default loses the connection when the mixin is part of a
  // protocol with a transport.
  virtual void timeoutConnection();
  // The pending call, if any (Twisted's private __timeoutCall; tests cancel it from outside).
  const std::shared_ptr<DelayedCall>& timeoutCall() const noexcept { return timeoutCall_; }

 protected:
  virtual std::shared_ptr<DelayedCall> callLater(double period, std::function<void()> fn);

 private:
  void timedOut();

  std::shared_ptr<DelayedCall> timeoutCall_;
};

}  // namespace torsion::twisted
