#include "torsion/testing/string_transport.hpp"

#include <stdexcept>

namespace torsion::testing {

StringTransport::StringTransport(twisted::Address host, twisted::Address peer, bool lenient_)
    : hostAddress(std::move(host)), peerAddress(std::move(peer)), lenient(lenient_) {
  connected = true;
}

void StringTransport::writeSequence(std::span<const std::string_view> data) {
  for (std::string_view piece : data) io.append(piece);
}

void StringTransport::checkState() const {
  if (disconnecting && !lenient) throw std::logic_error("Cannot resume producing after loseConnection");
  if (producerState == "stopped") throw std::logic_error("Cannot resume a stopped producer");
}

void StringTransport::pauseProducing() {
  checkState();
  producerState = "paused";
}

void StringTransport::resumeProducing() {
  checkState();
  producerState = "producing";
}

void StringTransport::stopProducing() { producerState = "stopped"; }

result<void> StringTransport::registerProducer(twisted::IProducer* p, bool isStreaming) {
  if (producer) return failure(errc::invalid_state);  // Twisted: "Cannot register two producers"
  producer = p;
  streaming = isStreaming;
  return success();
}

void StringTransport::unregisterProducer() {
  if (!producer) throw std::logic_error("Cannot unregister a producer unless one is registered");
  producer = nullptr;
  streaming = false;
}

void StringTransportWithDisconnection::loseConnection() {
  disconnecting = true;
  if (!connected) return;
  connected = false;
  if (protocol) protocol->connectionLost(twisted::Failure(errc::connection_done));
}

}  // namespace torsion::testing
