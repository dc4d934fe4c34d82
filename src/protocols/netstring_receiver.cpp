#include "torsion/protocols/netstring_receiver.hpp"

#include <array>
#include <stdexcept>

namespace torsion::twisted {

void NetstringReceiver::makeConnection(ITransport* t) {
  framer_.reset();
  brokenPeer = 0;
  Protocol::makeConnection(t);
}

void NetstringReceiver::dataReceived(std::string_view data) {
  if (brokenPeer) return;
  framing_buffer& buf = framer_.buffer();
  if (!rx_.enter(buf, data)) return;
  torsion::detail::receive_scope scope(rx_, buf);
  for (;;) {
    rx_.merge(buf);
    if (buf.empty()) return;
    const auto it = framer_.next(MAX_LENGTH);
    if (it.st == netstring_framer::status::need_more) return;
    if (it.st == netstring_framer::status::error) {
      if (transport) transport->loseConnection();
      brokenPeer = 1;
      rx_.reentrant.clear();
      return;
    }
    stringReceived(it.payload);
  }
}

void NetstringReceiver::stringReceived(std::string_view) {
  throw std::logic_error("NotImplementedError: NetstringReceiver.stringReceived must be overridden");
}

void NetstringReceiver::sendString(std::string_view string) {
  if (!transport) return;
  std::array<char, 24> head{};
  const std::array<std::string_view, 3> pieces{netstring_head(string.size(), head), string, ","};
  transport->writeSequence(pieces);
}

}  // namespace torsion::twisted
