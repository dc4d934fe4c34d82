#pragma once
// Twisted's task.Clock: a virtual clock for tests (twisted-semantics §4.6). Time stands still until
// advance(); due calls then run in time order, first-in first-out on ties, including calls made
// while advancing. It is a clock_source, so the connector engine, ReconnectingClientFactory,
// LoopingCall, TimeoutMixin and sleep_for all run on it; and an IReactorTime, so code that takes a
// reactor's callLater can be handed it.
#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "torsion/protocol/delayed_call.hpp"
#include "torsion/protocol/reactor_interfaces.hpp"
#include "torsion/time/virtual_clock.hpp"

namespace torsion::testing {

class Clock : public virtual_clock, public twisted::IReactorTime {
 public:
  // Unlike the real reactor, Twisted's Clock accepts a negative delay; here it means "now".
  std::shared_ptr<twisted::DelayedCall> callLater(double seconds, std::function<void()> fn) override;
  double seconds() const override { return clock_source::seconds(); }

  using virtual_clock::advance;
  using virtual_clock::pump;
  // Move time forward by `seconds` and run what is due.
  void advance(double seconds);
  void pump(std::initializer_list<double> timings) { pump(std::vector<double>(timings)); }
  void pump(const std::vector<double>& timings);
  // Calls made with this clock's callLater that are still pending, earliest first.
  std::vector<std::shared_ptr<twisted::DelayedCall>> getDelayedCalls() const;

 private:
  mutable std::vector<std::weak_ptr<twisted::DelayedCall>> calls_;
};

}  // namespace torsion::testing
