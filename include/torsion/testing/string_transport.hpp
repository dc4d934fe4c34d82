#pragma once
// Twisted's StringTransport and StringTransportWithDisconnection (twisted-semantics §4.7): a
// transport that records what the protocol writes, for testing protocols without sockets.
//   StringTransport t;  MyProtocol p;  p.makeConnection(&t);
//   p.dataReceived("hello\r\n");  CHECK(t.value() == "HELLO\r\n");
// loseConnection() only sets `disconnecting` (connectionLost is never called, as in Twisted);
// abortConnection() also sets `disconnected`. Producer misuse is reported as Twisted's
// RuntimeError is: registering a second producer returns invalid_state, and unregistering when
// none is registered or resuming/pausing after loseConnection (unless `lenient`) throws
// std::logic_error.
#include <string>
#include <string_view>

#include "torsion/protocol/address.hpp"
#include "torsion/protocol/protocol.hpp"
#include "torsion/protocol/transport.hpp"

namespace torsion::testing {

class StringTransport : public twisted::ITransport {
 public:
  explicit StringTransport(twisted::Address hostAddress = {"TCP", "10.0.0.1", 12345},
                           twisted::Address peerAddress = {"TCP", "192.168.1.1", 54321}, bool lenient = false);

  // Everything written so far, and a way to forget it.
  std::string value() const { return io; }
  void clear() { io.clear(); }

  void write(std::string_view data) override { io.append(data); }
  void writeSequence(std::span<const std::string_view> data) override;
  void loseConnection() override { disconnecting = true; }
  // Sets `disconnected`, then loseConnection() (so a StringTransportWithDisconnection ends the
  // connection), as Twisted's does.
  void abortConnection() override {
    disconnected = true;
    loseConnection();
  }
  void loseWriteConnection() override { writeConnectionLost = true; }
  twisted::Address getPeer() const override { return peerAddress; }
  twisted::Address getHost() const override { return hostAddress; }

  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override;
  result<void> registerProducer(twisted::IProducer* p, bool isStreaming) override;
  void unregisterProducer() override;

  void setTcpNoDelay(bool on) override { noDelay = on; }
  bool getTcpNoDelay() const override { return noDelay; }
  void setTcpKeepAlive(bool on) override { keepAlive = on; }
  bool getTcpKeepAlive() const override { return keepAlive; }

  std::string io;
  bool disconnected = false;
  bool writeConnectionLost = false;
  twisted::IProducer* producer = nullptr;
  bool streaming = false;
  // "producing", "paused" or "stopped": what the protocol asked of this transport as a producer.
  std::string producerState = "producing";
  twisted::Address hostAddress;
  twisted::Address peerAddress;
  bool lenient = false;
  bool noDelay = false;
  bool keepAlive = false;

 private:
  void checkState() const;
};

// A StringTransport whose loseConnection() ends the connection: protocol->connectionLost(
// connection_done) once. Set `protocol` first.
class StringTransportWithDisconnection : public StringTransport {
 public:
  using StringTransport::StringTransport;
  void loseConnection() override;
  twisted::Protocol* protocol = nullptr;
};

}  // namespace torsion::testing
