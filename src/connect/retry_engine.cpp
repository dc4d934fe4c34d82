#include "torsion/connect/retry_engine.hpp"

namespace torsion {

retry_engine::retry_engine(std::unique_ptr<backoff_policy> policy, clock_source& clock, random_source& rng)
    : policy_(std::move(policy)), clock_(clock), rng_(rng) {
  timer_.self = this;
  timer_.fire = &retry_engine::fire;
}

retry_engine::~retry_engine() { cancel_pending(); }

void retry_engine::cancel_pending() noexcept {
  // Only a scheduled timer touches the clock (which may be resolved lazily, and absent by now).
  if (timer_.scheduled()) clock_.cancel(timer_);
}

void retry_engine::on_failure_or_loss(connectable& c) {
  if (!continue_trying) return;
  connector_ = &c;
  retry(c);
}

std::optional<clock_source::duration> retry_engine::retry(connectable& c) {
  connector_ = &c;
  const auto now = clock_.now();
  const auto delay = policy_->next_delay(rng_, now);
  if (!delay) {
    c.emit({connector_event_kind::gave_up, now});
    return std::nullopt;
  }
  // One pending retry at a time: a newer schedule replaces an older one.
  cancel_pending();
  timer_.deadline = now + *delay;
  clock_.schedule(timer_);
  c.emit({connector_event_kind::retry, now, {}, *delay});
  return delay;
}

result<std::optional<clock_source::duration>> retry_engine::retry() {
  if (!connector_) return failure(errc::invalid_state);
  return retry(*connector_);
}

void retry_engine::fire(timer_entry& e) {
  retry_engine* self = static_cast<retry_timer&>(e).self;
  // The connector may be busy again (the user connected by hand): Twisted would raise from
  // connect(); here the retry is simply not needed.
  if (self->connector_) (void)self->connector_->connect();
}

void retry_engine::stop_trying() {
  cancel_pending();
  continue_trying = false;
  if (connector_ && connector_->state() == connector_state::connecting) (void)connector_->stop_connecting();
}

void retry_engine::reset_delay() {
  policy_->reset();
  continue_trying = true;
}

}  // namespace torsion
