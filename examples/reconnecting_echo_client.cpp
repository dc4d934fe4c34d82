// Port of the classic Twisted client with a ReconnectingClientFactory subclass that prints each
// event (from Twisted's "Writing Clients" howto). Compare line by line:
//
//   class Echo(Protocol):                       class Echo : public Protocol {
//       def dataReceived(self, data):             void dataReceived(std::string_view data) override {
//           stdout.write(data)                      std::cout << data << std::flush; } };
//
//   reconnecting_echo_client --host H --port P
#include <iostream>
#include <torsion/protocol/reactor.hpp>
#include <torsion/io/signal_set.hpp>
#include <torsion/protocol/reconnecting_client_factory.hpp>

#include "common/cli.hpp"

using namespace torsion::twisted;

class Echo : public Protocol {
 public:
  void connectionMade() override { transport->write("hello, echo server\r\n"); }
  void dataReceived(std::string_view data) override { std::cout << data << std::flush; }
};

class EchoClientFactory : public ReconnectingClientFactory {
 public:
  void startedConnecting(IConnector* connector) override {
    std::cout << "Started to connect." << std::endl;
    ReconnectingClientFactory::startedConnecting(connector);
  }
  std::unique_ptr<Protocol> buildProtocol(const Address& addr) override {
    std::cout << "Connected to " << addr << "." << std::endl;
    std::cout << "Resetting reconnection delay" << std::endl;
    resetDelay();
    auto p = std::make_unique<Echo>();
    p->factory = this;
    return p;
  }
  void clientConnectionLost(IConnector* connector, const Failure& reason) override {
    std::cout << "Lost connection.  Reason: " << reason.getErrorMessage() << std::endl;
    ReconnectingClientFactory::clientConnectionLost(connector, reason);
  }
  void clientConnectionFailed(IConnector* connector, const Failure& reason) override {
    std::cout << "Connection failed. Reason: " << reason.getErrorMessage() << std::endl;
    ReconnectingClientFactory::clientConnectionFailed(connector, reason);
  }
};

int main(int argc, char** argv) {
  example::cli args(argc, argv, {"host", "port"});
  torsion::proactor px;
  Reactor reactor(px);
  EchoClientFactory factory;
  auto connector = reactor.connectTCP(args.str("host", "127.0.0.1"), args.num<std::uint16_t>("port", 0, 1, 65535), factory);
  reactor.run();
  factory.stopTrying();
}
