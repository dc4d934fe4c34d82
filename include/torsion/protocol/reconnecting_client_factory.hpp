#pragma once
// Twisted's ReconnectingClientFactory as a view over the one retry engine (connect/retry_engine)
// and its twisted_backoff policy: the attributes below are references into that policy, so
// `factory.maxDelay = 10` works as in Python. Defaults and arithmetic are Twisted's (spec §1.5),
// with Torsion's decisions (§7.2): stopTrying() also aborts the first attempt in flight (the engine
// knows its connector from startedConnecting on), and a negative jittered delay waits 0 s.
// Subclasses override the callbacks and call the base versions, as in Twisted.
#include <memory>
#include <optional>

#include "torsion/connect/backoff_policy.hpp"
#include "torsion/connect/random_source.hpp"
#include "torsion/connect/retry_engine.hpp"
#include "torsion/protocol/connector.hpp"
#include "torsion/protocol/factory.hpp"

namespace torsion::twisted {

class ReconnectingClientFactory : public ClientFactory {
  // Declared first: the public attribute references below bind into these.
  struct forward_clock final : clock_source {
    explicit forward_clock(ReconnectingClientFactory* owner) : f(owner) {}
    ReconnectingClientFactory* f;
    clock_source& target() const;
    time_point now() const noexcept override { return target().now(); }
    void schedule(timer_entry& e) override { target().schedule(e); }
    void cancel(timer_entry& e) noexcept override { target().cancel(e); }
  };
  struct forward_rng final : random_source {
    explicit forward_rng(ReconnectingClientFactory* owner) : f(owner) {}
    ReconnectingClientFactory* f;
    random_source& target() const;
    double uniform01() override { return target().uniform01(); }
    double normal(double mu, double sigma) override { return target().normal(mu, sigma); }
  };
  forward_clock clock_fwd_;
  forward_rng rng_fwd_;
  mutable std::unique_ptr<random_source> own_rng_;
  retry_engine engine_;
  twisted_backoff& policy_;

 public:
  ReconnectingClientFactory();
  ~ReconnectingClientFactory() override;

  // Twisted's attributes, bound to the engine's policy and state.
  double& maxDelay = policy_.max_delay;
  double& initialDelay = policy_.initial_delay;
  double& factor = policy_.factor;
  double& jitter = policy_.jitter;
  double& delay = policy_.delay;
  unsigned& retries = policy_.retries_count;
  std::optional<unsigned>& maxRetries = policy_.max_retries;
  bool& continueTrying = engine_.continue_trying;
  // Twisted's `clock`: null means the reactor's real clock. rng: null means a generator seeded from
  // std::random_device. Set them before the first connection attempt.
  clock_source* clock = nullptr;
  random_source* rng = nullptr;
  // The connector, recorded from startedConnecting on (Twisted records it only on a failure).
  IConnector* connector = nullptr;

  void startedConnecting(IConnector* c) override;
  void clientConnectionFailed(IConnector* c, const Failure& reason) override;
  void clientConnectionLost(IConnector* c, const Failure& reason) override;

  // Twisted's retry(connector): a policy step, then connector.connect() after the delay, or give
  // up. invalid_state when there is no connector to retry.
  result<void> retry(IConnector* c = nullptr);
  void stopTrying();
  void resetDelay();

  // The engine both styles share.
  retry_engine& engine() noexcept { return engine_; }
};

}  // namespace torsion::twisted
