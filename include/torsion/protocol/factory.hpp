#pragma once
// Twisted's Factory, ServerFactory and ClientFactory. buildProtocol may return null: on a server
// the accepted connection is closed at once (the client sees a clean close); on a client the
// connection is closed and the factory sees clientConnectionLost (spec §1.4 D and E).
// startFactory/stopFactory run on the 0->1 and 1->0 transitions of numPorts.
#include <functional>
#include <memory>

#include "torsion/net/tcp_stream.hpp"
#include "torsion/protocol/address.hpp"
#include "torsion/protocol/failure.hpp"
#include "torsion/protocol/protocol.hpp"

namespace torsion::twisted {

class IConnector;

class Factory {
 public:
  virtual ~Factory() = default;

  // Twisted's `protocol` class attribute: makes one protocol.
  std::function<std::unique_ptr<Protocol>()> protocol;
  int numPorts = 0;
  bool noisy = false;  // Twisted logs "Starting factory"; off by default here

  // Twisted's forProtocol(P): a factory of type F whose protocol is P.
  template <class P, class F = Factory, class... A>
  static std::unique_ptr<F> forProtocol(A&&... args) {
    auto f = std::make_unique<F>(std::forward<A>(args)...);
    f->protocol = [] { return std::make_unique<P>(); };
    return f;
  }

  virtual std::unique_ptr<Protocol> buildProtocol(const Address& addr);
  void doStart();
  void doStop();
  virtual void startFactory() {}
  virtual void stopFactory() {}
  virtual std::string logPrefix() const;
};

class ServerFactory : public Factory {};

// factory.buildProtocol(peer of s), an exception logged and taken as a refusal (null).
std::unique_ptr<Protocol> build_protocol_logged(Factory& factory, const tcp_stream& s);

class ClientFactory : public Factory {
 public:
  virtual void startedConnecting(IConnector* /*connector*/) {}
  virtual void clientConnectionFailed(IConnector* /*connector*/, const Failure& /*reason*/) {}
  virtual void clientConnectionLost(IConnector* /*connector*/, const Failure& /*reason*/) {}
};

}  // namespace torsion::twisted
