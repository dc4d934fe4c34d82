#pragma once
// The one reconnect-with-backoff engine. After a failed attempt or a lost connection it asks its
// policy for a delay, waits on its clock and calls connector.connect() again, or gives up. It is
// ReconnectingClientFactory's retry logic (twisted-semantics §1.5) with Torsion's decisions (§7.2):
// it knows its connector from started_connecting on, so stop_trying() aborts even the first attempt.
// ReconnectingClientFactory and reconnecting_client are views over this class.
#include <memory>
#include <optional>

#include "torsion/connect/backoff_policy.hpp"
#include "torsion/connect/connector.hpp"
#include "torsion/connect/random_source.hpp"
#include "torsion/time/clock.hpp"

namespace torsion {

class retry_engine {
 public:
  retry_engine(std::unique_ptr<backoff_policy> policy, clock_source& clock, random_source& rng);
  retry_engine(const retry_engine&) = delete;
  retry_engine& operator=(const retry_engine&) = delete;
  ~retry_engine();

  // Twisted's continueTrying: while true, failures and losses schedule a retry.
  bool continue_trying = true;

  // Hooks for the connector's listener.
  void started_connecting(connectable& c) noexcept { connector_ = &c; }
  void connection_failed(connectable& c) { on_failure_or_loss(c); }
  void connection_lost(connectable& c) { on_failure_or_loss(c); }

  // Twisted's retry(connector): one policy step, then schedule connect() or give up. The delay, or
  // nothing when it gave up.
  std::optional<clock_source::duration> retry(connectable& c);
  // retry() on the recorded connector; invalid_state if there is none ("no connector to retry").
  result<std::optional<clock_source::duration>> retry();
  // Stop for good: cancel a pending retry, abort an attempt in flight, ignore later failures.
  void stop_trying();
  // Delay and retry count back to their initial values and continue_trying to true. Like Twisted, a
  // retry already scheduled still happens.
  void reset_delay();

  bool retry_pending() const noexcept { return timer_.scheduled(); }
  std::optional<clock_source::time_point> pending_at() const noexcept {
    if (!timer_.scheduled()) return std::nullopt;
    return timer_.deadline;
  }
  connectable* recorded_connector() const noexcept { return connector_; }
  backoff_policy& policy() noexcept { return *policy_; }
  clock_source& clock() noexcept { return clock_; }
  random_source& rng() noexcept { return rng_; }

 private:
  void on_failure_or_loss(connectable& c);
  void cancel_pending() noexcept;
  static void fire(timer_entry& e);

  struct retry_timer : timer_entry {
    retry_engine* self = nullptr;
  };

  std::unique_ptr<backoff_policy> policy_;
  clock_source& clock_;
  random_source& rng_;
  connectable* connector_ = nullptr;
  retry_timer timer_;
};

}  // namespace torsion
