#pragma once
// Twisted's BaseProtocol and Protocol, with Twisted's names so a port reads line for line.
// makeConnection sets connected and transport, then calls connectionMade. Neither is reset after
// connectionLost (as in Twisted). dataReceived gets chunks of at most 65536 bytes.
#include <string>
#include <string_view>
#include <typeinfo>

#include "torsion/protocol/failure.hpp"
#include "torsion/protocol/transport.hpp"

namespace torsion::twisted {

class Factory;

class BaseProtocol {
 public:
  virtual ~BaseProtocol() = default;

  int connected = 0;
  ITransport* transport = nullptr;

  virtual void makeConnection(ITransport* t) {
    connected = 1;
    transport = t;
    connectionMade();
  }
  virtual void connectionMade() {}
};

class Protocol : public BaseProtocol {
 public:
  Factory* factory = nullptr;

  virtual void dataReceived(std::string_view /*data*/) {}
  virtual void connectionLost(const Failure& /*reason*/) {}
  // The class name, as Twisted's logPrefix() (demangled where the platform allows).
  virtual std::string logPrefix() const;
};

// Protocols that want half-close notifications (IHalfCloseableProtocol).
class IHalfCloseableProtocol {
 public:
  virtual ~IHalfCloseableProtocol() = default;
  virtual void readConnectionLost() = 0;
  virtual void writeConnectionLost() = 0;
};

}  // namespace torsion::twisted
