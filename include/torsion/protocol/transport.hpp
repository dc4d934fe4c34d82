#pragma once
// ITransport / ITCPTransport: what a protocol writes to and closes. The TCP transport runs on
// coroutine tasks over a tcp_stream; test transports (StringTransport) implement the same interface.
#include <span>
#include <string_view>

#include "torsion/protocol/address.hpp"

namespace torsion::twisted {

class ITransport {
 public:
  virtual ~ITransport() = default;

  // Buffer data for sending; never blocks, never sends synchronously. Ignored once disconnected.
  virtual void write(std::string_view data) = 0;
  // Like a write of each piece, without joining them first.
  virtual void writeSequence(std::span<const std::string_view> data) = 0;
  // Stop reading now, send everything buffered, then close cleanly (connectionLost: connection_done).
  virtual void loseConnection() = 0;
  // Drop buffered output and reset the connection; connectionLost(connection_aborted) comes on a
  // later loop turn, never from inside this call.
  virtual void abortConnection() = 0;
  virtual Address getPeer() const = 0;
  virtual Address getHost() const = 0;

  // The transport as a producer of received data: stop and restart delivering dataReceived.
  virtual void pauseProducing() = 0;
  virtual void resumeProducing() = 0;
  virtual void stopProducing() = 0;

  virtual void setTcpNoDelay(bool enabled) = 0;
  virtual bool getTcpNoDelay() const = 0;
  virtual void setTcpKeepAlive(bool enabled) = 0;
  virtual bool getTcpKeepAlive() const = 0;

  // True once loseConnection() or abortConnection() has been called.
  bool disconnecting = false;
  // True from makeConnection until the connection is gone.
  bool connected = false;
};

}  // namespace torsion::twisted
