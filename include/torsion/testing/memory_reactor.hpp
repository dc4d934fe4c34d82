#pragma once
// Twisted's MemoryReactor and MemoryReactorClock (twisted-semantics §4.7): an IReactorTCP that
// records listenTCP and connectTCP calls and connects nothing. connectTCP calls the factory's
// startedConnecting synchronously with a FakeConnector; the reactor keeps every connector
// (`connectors`), so tests can inspect them after the caller drops its handle.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "torsion/protocol/reactor_interfaces.hpp"
#include "torsion/testing/clock.hpp"

namespace torsion::testing {

// Twisted's _FakeConnector: records stopConnecting/disconnect/connect instead of acting. Its state
// starts at "connecting" (startedConnecting has been called); stopConnecting and disconnect make it
// "disconnected", connect makes it "connecting" again. Subclass it to add behaviour.
class FakeConnector : public twisted::IConnector {
 public:
  explicit FakeConnector(twisted::Address destination);

  result<void> connect() override;
  result<void> stopConnecting() override;
  void disconnect() override;
  twisted::Address getDestination() const override { return destination_; }
  std::string state() const override { return state_; }
  connectable& engine() noexcept override { return engine_; }

  bool stoppedConnecting = false;
  bool disconnected = false;
  int connectCalls = 0;

 protected:
  std::string state_ = "connecting";

 private:
  // What the retry engine sees: this connector under connectable's names.
  struct engine_view final : connectable {
    explicit engine_view(FakeConnector& c) : self(c) {}
    FakeConnector& self;
    result<void> connect() override { return self.connect(); }
    result<void> stop_connecting() override { return self.stopConnecting(); }
    void disconnect() override { self.disconnect(); }
    connector_state state() const noexcept override;
    void emit(connector_event) const override {}
  };

  twisted::Address destination_;
  engine_view engine_{*this};
};

// Twisted's _FakePort: getHost() is 0.0.0.0 (or the IPv6 interface listened on) and the port asked for.
class FakePort : public twisted::IListeningPort {
 public:
  explicit FakePort(twisted::Address host) : host_(std::move(host)) {}
  void stopListening() override { stopped = true; }
  twisted::Address getHost() const override { return host_; }
  bool stopped = false;

 private:
  twisted::Address host_;
};

class MemoryReactor : public twisted::IReactorTCP {
 public:
  struct TCPServer {
    std::uint16_t port;
    twisted::Factory* factory;
    int backlog;
    std::string interface;
  };
  struct TCPClient {
    std::string host;
    std::uint16_t port;
    twisted::ClientFactory* factory;
    double timeout;
    twisted::BindAddress bindAddress;
  };

  result<std::unique_ptr<twisted::IListeningPort>> listenTCP(std::uint16_t port, twisted::Factory& factory,
                                                             int backlog = 50,
                                                             const std::string& interface = "") override;
  // The returned handle forwards to a FakeConnector that `connectors` owns.
  std::unique_ptr<twisted::IConnector> connectTCP(std::string host, std::uint16_t port, twisted::ClientFactory& factory,
                                                  double timeout = 30, twisted::BindAddress bindAddress = {}) override;

  std::vector<TCPServer> tcpServers;
  std::vector<TCPClient> tcpClients;
  std::vector<std::unique_ptr<FakeConnector>> connectors;
};

// MemoryReactor + Clock, as Twisted's MemoryReactorClock.
class MemoryReactorClock : public MemoryReactor, public Clock {};

}  // namespace torsion::testing
