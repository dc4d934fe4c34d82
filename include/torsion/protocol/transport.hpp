#pragma once
// ITransport / ITCPTransport: what a protocol writes to and closes. The TCP transport runs on
// coroutine tasks over a tcp_stream; test transports (StringTransport) implement the same interface.
#include <cstddef>
#include <span>
#include <string_view>

#include "torsion/core/result.hpp"
#include "torsion/protocol/address.hpp"

namespace torsion::twisted {

// IProducer / IPushProducer / IPullProducer in one interface: a push (streaming) producer gets
// pauseProducing/resumeProducing as the transport's buffer crosses its water marks; a pull producer
// gets resumeProducing whenever the buffer has drained and should write one chunk each time.
class IProducer {
 public:
  virtual ~IProducer() = default;
  virtual void pauseProducing() {}
  virtual void resumeProducing() = 0;
  virtual void stopProducing() = 0;
};

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
  // Half-close: send everything buffered, then FIN; reading goes on. Later writes are dropped. A
  // protocol that implements IHalfCloseableProtocol hears writeConnectionLost().
  virtual void loseWriteConnection() = 0;
  virtual Address getPeer() const = 0;
  virtual Address getHost() const = 0;

  // The transport as a producer of received data: stop and restart delivering dataReceived.
  virtual void pauseProducing() = 0;
  virtual void resumeProducing() = 0;
  virtual void stopProducing() = 0;

  // Register the producer that feeds this transport. invalid_state if one is registered already;
  // on a transport that is already disconnected the producer is stopped at once instead.
  virtual result<void> registerProducer(IProducer* producer, bool streaming) = 0;
  virtual void unregisterProducer() = 0;

  virtual void setTcpNoDelay(bool enabled) = 0;
  virtual bool getTcpNoDelay() const = 0;
  virtual void setTcpKeepAlive(bool enabled) = 0;
  virtual bool getTcpKeepAlive() const = 0;

  // True once loseConnection() or abortConnection() has been called.
  bool disconnecting = false;
  // True from makeConnection until the connection is gone.
  bool connected = false;
  // A streaming producer is paused once when the buffered bytes exceed highWaterMark and resumed
  // once when they have fallen to lowWaterMark (Twisted's numbers by default: 65536 and 0).
  std::size_t highWaterMark = 65536;
  std::size_t lowWaterMark = 0;
};

}  // namespace torsion::twisted
