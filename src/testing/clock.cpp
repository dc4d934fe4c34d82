#include "torsion/testing/clock.hpp"

#include <algorithm>

namespace torsion::testing {

std::shared_ptr<twisted::DelayedCall> Clock::callLater(double seconds, std::function<void()> fn) {
  auto call = twisted::callLater(*this, seconds, std::move(fn));
  // Forget finished calls now and then, so a long test does not accumulate them.
  if (calls_.size() >= 64 && (calls_.size() & (calls_.size() - 1)) == 0)
    std::erase_if(calls_, [](const auto& w) { return w.expired(); });
  calls_.push_back(call);
  return call;
}

void Clock::advance(double seconds) { virtual_clock::advance(twisted::seconds_to_duration(seconds)); }

void Clock::pump(const std::vector<double>& timings) {
  for (double t : timings) advance(t);
}

std::vector<std::shared_ptr<twisted::DelayedCall>> Clock::getDelayedCalls() const {
  std::vector<std::shared_ptr<twisted::DelayedCall>> out;
  std::erase_if(calls_, [&](const std::weak_ptr<twisted::DelayedCall>& w) {
    auto c = w.lock();
    if (!c || !c->active()) return true;
    out.push_back(std::move(c));
    return false;
  });
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->getTime() < b->getTime(); });
  return out;
}

}  // namespace torsion::testing
