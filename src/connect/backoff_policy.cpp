#include "torsion/connect/backoff_policy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace torsion {

namespace {

// Counting stops at the maximum instead of wrapping to 0, which would revive a policy that gave up.
void count_retry(unsigned& retries) noexcept {
  if (retries != std::numeric_limits<unsigned>::max()) ++retries;
}

}  // namespace

clock_source::duration delay_from_seconds(double seconds) noexcept {
  if (std::isnan(seconds)) return clock_source::duration::max();
  if (seconds <= 0) return clock_source::duration::zero();
  const double ns = seconds * 1e9;
  // 2^63 is the first double an int64 cannot hold.
  if (!(ns < 9223372036854775808.0)) return clock_source::duration::max();
  return clock_source::duration{std::llround(ns)};
}

// ---- twisted_backoff

std::optional<double> twisted_backoff::step(random_source& rng) {
  count_retry(retries_count);
  if (max_retries && retries_count > *max_retries) return std::nullopt;
  delay = std::min(delay * factor, max_delay);
  if (jitter == 0) return delay;
  const double jittered = rng.normal(delay, delay * jitter);
  // Torsion's §7.2 item 4: a negative draw waits 0 s. It is not stored, or the next delays would all be
  // 0 * factor == 0, a reconnect storm; the pre-jitter value compounds instead.
  if (jittered < 0) return 0.0;
  delay = jittered;
  return delay;
}

std::optional<clock_source::duration> twisted_backoff::next_delay(random_source& rng,
                                                                  clock_source::time_point /*now*/) {
  const auto seconds = step(rng);
  if (!seconds) return std::nullopt;
  return delay_from_seconds(*seconds);
}

void twisted_backoff::reset() {
  delay = initial_delay;
  retries_count = 0;
}

std::unique_ptr<backoff_policy> twisted_backoff::clone() const { return std::make_unique<twisted_backoff>(*this); }

// ---- bounded_backoff

std::optional<double> bounded_backoff::step(random_source& rng) {
  count_retry(retries_);
  if (max_retries && retries_ > *max_retries) return std::nullopt;
  base_ = std::min(retries_ == 1 ? initial_delay : base_ * factor, max_delay);
  double d = jitter != 0 ? rng.normal(base_, base_ * jitter) : base_;
  if (std::isnan(d)) d = max_delay;
  d = std::min(d, max_delay);
  return d > 0 ? d : 0.0;  // also catches a negative max_delay
}

std::optional<clock_source::duration> bounded_backoff::next_delay(random_source& rng, clock_source::time_point now) {
  // A loss ends the connection reported by connected(); a failed attempt finds none recorded.
  if (connected_at_) {
    if (reset_after && now - *connected_at_ >= *reset_after) reset();
    connected_at_.reset();
  }
  const auto seconds = step(rng);
  if (!seconds) return std::nullopt;
  return delay_from_seconds(*seconds);
}

void bounded_backoff::reset() {
  retries_ = 0;
  base_ = 0;
  connected_at_.reset();
}

std::unique_ptr<backoff_policy> bounded_backoff::clone() const { return std::make_unique<bounded_backoff>(*this); }

}  // namespace torsion
