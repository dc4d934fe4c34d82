#include "torsion/protocol/reconnecting_client_factory.hpp"

#include "torsion/time/real_clock.hpp"

namespace torsion::twisted {

clock_source& ReconnectingClientFactory::forward_clock::target() const {
  return f->clock ? *f->clock : real_clock::current();
}

random_source& ReconnectingClientFactory::forward_rng::target() const {
  if (f->rng) return *f->rng;
  if (!f->own_rng_) f->own_rng_ = std::make_unique<python_random>();
  return *f->own_rng_;
}

ReconnectingClientFactory::ReconnectingClientFactory()
    : clock_fwd_(this),
      rng_fwd_(this),
      engine_(std::make_unique<twisted_backoff>(), clock_fwd_, rng_fwd_),
      policy_(static_cast<twisted_backoff&>(engine_.policy())) {}

ReconnectingClientFactory::~ReconnectingClientFactory() = default;

void ReconnectingClientFactory::startedConnecting(IConnector* c) {
  connector = c;
  engine_.started_connecting(c->engine());
}

void ReconnectingClientFactory::clientConnectionFailed(IConnector* c, const Failure&) {
  if (!continueTrying) return;
  connector = c;
  (void)retry(c);
}

void ReconnectingClientFactory::clientConnectionLost(IConnector* c, const Failure&) {
  if (!continueTrying) return;
  connector = c;
  (void)retry(c);
}

result<void> ReconnectingClientFactory::retry(IConnector* c) {
  if (!c) c = connector;
  if (!c) return failure(errc::invalid_state);  // Twisted: ValueError("no connector to retry")
  connector = c;
  engine_.retry(c->engine());
  return success();
}

void ReconnectingClientFactory::stopTrying() { engine_.stop_trying(); }

void ReconnectingClientFactory::resetDelay() { engine_.reset_delay(); }

}  // namespace torsion::twisted
