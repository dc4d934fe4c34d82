#pragma once
// Reconnect backoff: how long to wait after a failed attempt or a lost connection, and when to give up. Pure
// arithmetic over an injected random source and the times the caller reports, so every delay is testable under
// virtual time (architecture invariant 10). The retry loop in connect/ owns a policy; ReconnectingClientFactory and
// the coroutine reconnect API only configure and observe it.
#include <memory>
#include <optional>

#include "torsion/connect/random_source.hpp"
#include "torsion/time/clock.hpp"

namespace torsion {

class backoff_policy {
 public:
  virtual ~backoff_policy() = default;
  // A failed attempt or a lost connection happened at `now`. Returns the delay before the next attempt, or
  // std::nullopt to give up.
  virtual std::optional<clock_source::duration> next_delay(random_source& rng, clock_source::time_point now) = 0;
  // A connection was established at `now`.
  virtual void connected(clock_source::time_point /*now*/) {}
  // Twisted's resetDelay(): delay and retries back to initial.
  virtual void reset() = 0;
  // Failures and losses counted since the last reset, including those after giving up.
  virtual unsigned retries() const = 0;
  virtual std::unique_ptr<backoff_policy> clone() const = 0;
};

// A delay in seconds as a clock duration, rounded to the nearest nanosecond. Negative values become zero; +inf and
// NaN (only from a nonsensical configuration) saturate at duration::max(): never retrying is safer than a storm.
clock_source::duration delay_from_seconds(double seconds) noexcept;

// ReconnectingClientFactory's arithmetic, exactly (twisted-semantics §1.5). The fields are Twisted's attributes in
// snake_case and may be changed at any time, as in Python. For the n-th failure since the last reset:
//   retries += 1; give up if max_retries is set and retries > max_retries (delay unchanged);
//   delay = min(delay * factor, max_delay);                      clamped BEFORE the jitter, so it can exceed max_delay
//   if jitter != 0: delay = normal(mu = delay, sigma = delay * jitter);    the jittered value compounds
//   a negative draw waits 0 s and is not stored (delay keeps the pre-jitter value): §7.2 item 4, Twisted #8714
// So the first delay is initial_delay * factor, not initial_delay. Nothing resets automatically: connected() is a
// no-op and the caller calls reset() (Twisted's resetDelay()) when it wants to. Storing a clamped 0 would make every
// later delay 0 * factor == 0, hence the pre-jitter value is kept in that case.
class twisted_backoff final : public backoff_policy {
 public:
  double initial_delay = 1.0;
  double factor = 2.7182818284590451;  // math.e
  double jitter = 0.119626565582;      // sigma of the normal draw, relative to the delay
  double max_delay = 3600;
  std::optional<unsigned> max_retries;  // unset: retry forever
  double delay = 1.0;                   // the current delay in seconds; like Twisted, only reset() copies initial_delay
  unsigned retries_count = 0;

  // Twisted's retry() arithmetic in seconds; std::nullopt means give up.
  std::optional<double> step(random_source& rng);

  std::optional<clock_source::duration> next_delay(random_source& rng, clock_source::time_point now) override;
  void reset() override;
  unsigned retries() const override { return retries_count; }
  std::unique_ptr<backoff_policy> clone() const override;
};

// A backoff whose bounds hold: max_delay is a true maximum and a delay is never negative. For the n-th failure
// since the last reset (n = 1, 2, ...):
//   retries += 1; give up if max_retries is set and retries > max_retries (the base is left unchanged);
//   base_1 = min(initial_delay, max_delay);   base_n = min(base_{n-1} * factor, max_delay)
//   delay_n = clamp(jitter != 0 ? normal(mu = base_n, sigma = base_n * jitter) : base_n, 0, max_delay)
// So the first delay is initial_delay (jittered), then it grows by `factor` up to max_delay. Unlike Twisted's, the
// growth is computed on the un-jittered base, so the jitter does not compound, and the clamp comes after the jitter.
// At the ceiling about half of the draws are exactly max_delay. A NaN draw (only from a nonsensical configuration)
// becomes max_delay.
// With reset_after set, a connection reported by connected(t0) that is lost at `now` with now - t0 >= reset_after
// resets the policy before the delay is computed, so that loss gets the first delay again and counts as retry 1.
class bounded_backoff final : public backoff_policy {
 public:
  double initial_delay = 1.0;
  double factor = 2.0;
  double jitter = 0.1;  // sigma of the normal draw, relative to the base delay
  double max_delay = 60.0;
  std::optional<unsigned> max_retries;  // unset: retry forever
  std::optional<clock_source::duration> reset_after;

  // The arithmetic above in seconds, without the reset_after check; std::nullopt means give up.
  std::optional<double> step(random_source& rng);

  std::optional<clock_source::duration> next_delay(random_source& rng, clock_source::time_point now) override;
  void connected(clock_source::time_point now) override { connected_at_ = now; }
  void reset() override;
  unsigned retries() const override { return retries_; }
  std::unique_ptr<backoff_policy> clone() const override;

  // The un-jittered delay of the latest retry (base_n above); 0 before the first one.
  double base_delay() const noexcept { return base_; }

 private:
  unsigned retries_ = 0;
  double base_ = 0;
  std::optional<clock_source::time_point> connected_at_;
};

}  // namespace torsion
