#pragma once
// The reactor as code under test sees it: Twisted's IReactorTCP, IReactorTime and IListeningPort.
// Reactor implements them over the proactor; testing::MemoryReactor (and MemoryReactorClock)
// implement them by recording calls, so a factory that takes an IReactorTCP& can be tested without
// sockets, as Twisted's own tests do.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "torsion/core/result.hpp"
#include "torsion/protocol/address.hpp"
#include "torsion/protocol/connector.hpp"
#include "torsion/protocol/delayed_call.hpp"
#include "torsion/protocol/factory.hpp"

namespace torsion::twisted {

class IListeningPort {
 public:
  virtual ~IListeningPort() = default;
  // Stop accepting; a second call does nothing.
  virtual void stopListening() = 0;
  virtual Address getHost() const = 0;
};

using BindAddress = std::optional<std::pair<std::string, std::uint16_t>>;

class IReactorTCP {
 public:
  virtual ~IReactorTCP() = default;
  // interface "" means all IPv4 addresses. Errors (cannot_listen and the errno) come back at once.
  virtual result<std::unique_ptr<IListeningPort>> listenTCP(std::uint16_t port, Factory& factory, int backlog = 50,
                                                            const std::string& interface = "") = 0;
  // startedConnecting has run when this returns. timeout in seconds, 0 for none.
  virtual std::unique_ptr<IConnector> connectTCP(std::string host, std::uint16_t port, ClientFactory& factory,
                                                 double timeout = 30, BindAddress bindAddress = {}) = 0;
};

class IReactorTime {
 public:
  virtual ~IReactorTime() = default;
  virtual std::shared_ptr<DelayedCall> callLater(double seconds, std::function<void()> fn) = 0;
  virtual double seconds() const = 0;
};

}  // namespace torsion::twisted
