#pragma once
// Twisted's Connector (IConnector) for the callback layer: a view over the one torsion::connector
// engine. It adds the factory side of Twisted: doStart before the first attempt, startedConnecting,
// buildProtocol on connect (null closes the connection: clientConnectionLost, no protocol
// callbacks), clientConnectionFailed / clientConnectionLost, and doStop afterwards unless the
// factory connected again from inside those callbacks.
#include <memory>
#include <string>

#include "torsion/connect/connector.hpp"
#include "torsion/protocol/address.hpp"
#include "torsion/protocol/factory.hpp"
#include "torsion/protocol/failure.hpp"

namespace torsion::twisted {

class Reactor;
class tcp_transport;

// IConnector: what a ClientFactory's callbacks receive. Connector (below) is the TCP one;
// testing::FakeConnector is MemoryReactor's. engine() is what the retry engine drives.
class IConnector {
 public:
  virtual ~IConnector() = default;
  virtual result<void> connect() = 0;
  virtual result<void> stopConnecting() = 0;
  virtual void disconnect() = 0;
  virtual Address getDestination() const = 0;
  // "disconnected", "connecting" or "connected", as Twisted's connector.state.
  virtual std::string state() const = 0;
  virtual connectable& engine() noexcept = 0;
};

class Connector final : public IConnector, private connector::listener {
 public:
  Connector(Reactor& reactor, std::string host, std::uint16_t port, ClientFactory& factory, connect_options opts);
  Connector(const Connector&) = delete;
  ~Connector() override;

  // invalid_state unless disconnected ("can't connect in this state").
  result<void> connect() override;
  // not_connecting unless connecting; clientConnectionFailed(user_cancelled) runs before it returns.
  result<void> stopConnecting() override { return engine_.stop_connecting(); }
  void disconnect() override { engine_.disconnect(); }
  Address getDestination() const override { return {"TCP", engine_.host(), engine_.port()}; }
  std::string state() const override { return to_string(engine_.state()); }
  ITransport* transport() const noexcept;

  // The engine underneath, shared with the coroutine style.
  connector& engine() noexcept override { return engine_; }

 private:
  void started_connecting(connector&) override;
  void connection_failed(connector&, std::error_code reason) override;
  void connection_made(connector&, tcp_stream stream) override;
  void connection_lost(connector&, std::error_code reason) override;
  void close_requested(connector&) override;
  void stop_factory_unless_reconnected();
  task<void> run_connection(std::unique_ptr<tcp_transport> t);

  Reactor& reactor_;
  ClientFactory& factory_;
  connector engine_;
  tcp_transport* current_ = nullptr;
  Failure last_reason_;
  bool factory_started_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// An error code as the Failure a factory callback receives.
Failure failure_from(const std::error_code& ec);

}  // namespace torsion::twisted
