#include "torsion/protocols/int_string_receiver.hpp"

#include <array>
#include <stdexcept>

namespace torsion::twisted {

void IntNStringReceiver::dataReceived(std::string_view data) {
  if (framer_.broken()) return;
  framing_buffer& buf = framer_.buffer();
  if (!rx_.enter(buf, data)) return;
  torsion::detail::receive_scope scope(rx_, buf);
  while (!paused) {
    rx_.merge(buf);
    const auto it = framer_.next(prefixLength, MAX_LENGTH);
    if (it.st == int_prefix_framer::status::need_more) return;
    if (it.st == int_prefix_framer::status::length_exceeded) {
      rx_.reentrant.clear();
      lengthLimitExceeded(it.length);
      return;
    }
    stringReceived(it.payload);
    if (new_recvd_) {
      buf.assign(*new_recvd_);
      new_recvd_.reset();
    }
  }
}

void IntNStringReceiver::stringReceived(std::string_view) {
  throw std::logic_error("NotImplementedError: IntNStringReceiver.stringReceived must be overridden");
}

void IntNStringReceiver::lengthLimitExceeded(std::uint64_t) {
  if (transport) transport->loseConnection();
}

result<void> IntNStringReceiver::sendString(std::string_view string) {
  if (string.size() > int_prefix_max(prefixLength)) return failure(errc::string_too_long);
  if (!transport) return success();
  std::array<char, 8> prefix{};
  encode_int_prefix(string.size(), prefixLength, prefix.data());
  const std::array<std::string_view, 2> pieces{std::string_view(prefix.data(), prefixLength), string};
  transport->writeSequence(pieces);
  return success();
}

}  // namespace torsion::twisted
