#pragma once
// Twisted's NetstringReceiver (twisted-semantics §4.3): "<length>:<payload>," with MAX_LENGTH 99999,
// no leading zeros, and on any malformed input loseConnection() and brokenPeer = 1.
// Difference: once broken, later data is dropped (Twisted buffers and re-parses it on every call),
// so a broken peer cannot make the receiver buffer anything.
#include <string_view>

#include "torsion/core/result.hpp"
#include "torsion/protocol/protocol.hpp"
#include "torsion/protocols/detail/receive_scope.hpp"
#include "torsion/protocols/netstring_framer.hpp"

namespace torsion::twisted {

class NetstringReceiver : public Protocol {
 public:
  std::size_t MAX_LENGTH = 99999;
  int brokenPeer = 0;

  // Resets the parser, as Twisted initialises its state here.
  void makeConnection(ITransport* t) override;
  void dataReceived(std::string_view data) override;
  // Override to receive each payload. The default throws (NotImplementedError).
  virtual void stringReceived(std::string_view string);
  // Writes "<len>:<string>," with one writeSequence call.
  void sendString(std::string_view string);

  // Why the peer was declared broken (Twisted's NetstringParseError message), or null.
  const char* parseError() const noexcept { return framer_.reason(); }
  std::string_view buffered() const noexcept { return framer_.buffer().data(); }
  std::size_t expectedPayloadSize() const noexcept { return framer_.expected_payload_size(); }

 private:
  netstring_framer framer_;
  torsion::detail::receive_state rx_;
};

}  // namespace torsion::twisted
