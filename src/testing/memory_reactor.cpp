#include "torsion/testing/memory_reactor.hpp"

#include "torsion/net/address.hpp"

namespace torsion::testing {

namespace {

// What connectTCP's caller holds: the connector itself stays with the reactor.
class connector_handle final : public twisted::IConnector {
 public:
  explicit connector_handle(FakeConnector& c) : c_(c) {}
  result<void> connect() override { return c_.connect(); }
  result<void> stopConnecting() override { return c_.stopConnecting(); }
  void disconnect() override { c_.disconnect(); }
  twisted::Address getDestination() const override { return c_.getDestination(); }
  std::string state() const override { return c_.state(); }
  connectable& engine() noexcept override { return c_.engine(); }

 private:
  FakeConnector& c_;
};

}  // namespace

FakeConnector::FakeConnector(twisted::Address destination) : destination_(std::move(destination)) {}

result<void> FakeConnector::connect() {
  ++connectCalls;
  state_ = "connecting";
  return success();
}

result<void> FakeConnector::stopConnecting() {
  stoppedConnecting = true;
  state_ = "disconnected";
  return success();
}

void FakeConnector::disconnect() {
  disconnected = true;
  state_ = "disconnected";
}

connector_state FakeConnector::engine_view::state() const noexcept {
  const std::string s = self.state();
  if (s == "connecting") return connector_state::connecting;
  if (s == "connected") return connector_state::connected;
  return connector_state::disconnected;
}

result<std::unique_ptr<twisted::IListeningPort>> MemoryReactor::listenTCP(std::uint16_t port, twisted::Factory& factory,
                                                                          int backlog, const std::string& interface) {
  tcpServers.push_back({port, &factory, backlog, interface});
  // As Twisted: an IPv6 interface is the port's host; anything else is reported as 0.0.0.0.
  const auto ip = ip_address::parse(interface);
  const std::string host = ip && ip.value().is_v6() ? interface : "0.0.0.0";
  return std::unique_ptr<twisted::IListeningPort>(std::make_unique<FakePort>(twisted::Address{"TCP", host, port}));
}

std::unique_ptr<twisted::IConnector> MemoryReactor::connectTCP(std::string host, std::uint16_t port,
                                                               twisted::ClientFactory& factory, double timeout,
                                                               twisted::BindAddress bindAddress) {
  tcpClients.push_back({host, port, &factory, timeout, bindAddress});
  auto conn = std::make_unique<FakeConnector>(twisted::Address{"TCP", std::move(host), port});
  FakeConnector& ref = *conn;
  factory.startedConnecting(&ref);
  connectors.push_back(std::move(conn));
  return std::make_unique<connector_handle>(ref);
}

}  // namespace torsion::testing
