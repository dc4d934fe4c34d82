#pragma once
// The one connector, shared by the coroutine and the callback styles. It is Twisted's connector state
// machine (twisted-semantics §2.1): disconnected -> connecting -> connected -> disconnected, with
// connect() only from disconnected, stop_connecting() only while connecting (failing the attempt
// synchronously with user_cancelled), and disconnect() in any state. It makes one attempt at a time
// (resolution, bind, connect, timeout: net/connect) and hands the result to its listener, which is the
// style view that owns it: the coroutine reconnecting_client or the callback layer's client factory.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "torsion/connect/connector_event.hpp"
#include "torsion/core/result.hpp"
#include "torsion/net/connect.hpp"
#include "torsion/net/tcp_stream.hpp"
#include "torsion/time/clock.hpp"

namespace torsion {

enum class connector_state { disconnected, connecting, connected };
const char* to_string(connector_state s) noexcept;

// What the retry engine drives: the connector below, or a test double (testing::FakeConnector) that
// records the calls instead of connecting.
class connectable {
 public:
  virtual ~connectable() = default;
  virtual result<void> connect() = 0;
  virtual result<void> stop_connecting() = 0;
  virtual void disconnect() = 0;
  virtual connector_state state() const noexcept = 0;
  // Report an event (attempt, retry, gave_up, ...) to whoever observes this connector.
  virtual void emit(connector_event e) const = 0;
};

class connector final : public connectable {
 public:
  // The owner's side. The state has already changed when each is called, so a listener may call
  // connect() again from connection_failed / connection_lost (Twisted's test_reconnect).
  class listener {
   public:
    virtual ~listener() = default;
    virtual void started_connecting(connector&) {}
    virtual void connection_failed(connector&, std::error_code reason) = 0;
    // The connection is the listener's now; it calls connector::connection_lost() when it ends.
    virtual void connection_made(connector&, tcp_stream stream) = 0;
    virtual void connection_lost(connector&, std::error_code reason) = 0;
    // disconnect() while connected: close the connection (the loss is reported as usual).
    virtual void close_requested(connector&) = 0;
  };

  connector(std::string host, std::uint16_t port, connect_options opts, listener& owner, clock_source& clock);
  connector(const connector&) = delete;
  connector& operator=(const connector&) = delete;
  ~connector();

  // Start an attempt. invalid_state unless disconnected ("can't connect in this state").
  result<void> connect() override;
  // Abandon the attempt in flight: connection_failed(user_cancelled) before this returns.
  // not_connecting unless connecting.
  result<void> stop_connecting() override;
  // Whatever the state: stop connecting, ask the listener to close, or nothing.
  void disconnect() override;
  // The listener's connection has ended.
  void connection_lost(std::error_code reason);

  connector_state state() const noexcept override { return state_; }
  const std::string& host() const noexcept { return host_; }
  std::uint16_t port() const noexcept { return port_; }
  const connect_options& options() const noexcept { return opts_; }
  clock_source& clock() const noexcept { return clock_; }

  // Every event of this connector and of the retry engine driving it.
  void set_observer(std::function<void(const connector_event&)> fn) { observer_ = std::move(fn); }
  void emit(connector_event e) const override {
    if (observer_) observer_(e);
  }

 private:
  struct attempt;
  void attempt_done(result<tcp_stream> r);

  std::string host_;
  std::uint16_t port_;
  connect_options opts_;
  listener& owner_;
  clock_source& clock_;
  connector_state state_ = connector_state::disconnected;
  std::shared_ptr<attempt> attempt_;
  std::function<void(const connector_event&)> observer_;
};

}  // namespace torsion
