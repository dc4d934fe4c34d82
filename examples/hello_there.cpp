// Port of the classic Twisted client snippet: a protocol that says "Hello there" when connected and
// prints whatever comes back, until the server closes the connection.
//
//   class SomeProtocol(Protocol):               class SomeProtocol : public Protocol {
//       def connectionMade(self):                  void connectionMade() override {
//           self.transport.write(b"Hello there")     transport->write("Hello there"); }
//       def dataReceived(self, data):              void dataReceived(std::string_view data) override {
//           print(data)                              std::cout << data << std::endl; } };
//
//   hello_there --host H --port P
#include <iostream>
#include <torsion/protocol/reactor.hpp>

#include "common/cli.hpp"

using namespace torsion::twisted;

class SomeProtocol : public Protocol {
 public:
  void connectionMade() override { transport->write("Hello there"); }
  void dataReceived(std::string_view data) override { std::cout << data << std::endl; }
};

class SomeFactory : public ClientFactory {
 public:
  explicit SomeFactory(Reactor& r) : reactor(r) { protocol = [] { return std::make_unique<SomeProtocol>(); }; }
  void clientConnectionFailed(IConnector*, const Failure& reason) override {
    std::cerr << "Connection failed: " << reason.getErrorMessage() << std::endl;
    failed = true;
    reactor.stop();
  }
  void clientConnectionLost(IConnector*, const Failure&) override { reactor.stop(); }
  Reactor& reactor;
  bool failed = false;
};

int main(int argc, char** argv) {
  example::cli args(argc, argv, {"host", "port"});
  torsion::proactor px;
  Reactor reactor(px);
  SomeFactory factory(reactor);
  auto connector = reactor.connectTCP(args.str("host", "127.0.0.1"), args.num<std::uint16_t>("port", 0, 1, 65535), factory);
  reactor.run();
  return factory.failed ? 1 : 0;
}
