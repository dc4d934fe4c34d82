#pragma once
// Twisted's IntNStringReceiver family (twisted-semantics §4.4): a big-endian length prefix of
// prefixLength bytes, MAX_LENGTH 99999 checked as soon as the prefix is in (before any payload is
// buffered); an oversize prefix calls lengthLimitExceeded(length), by default loseConnection(), and
// the string is not delivered. Pausing as LineReceiver. `recvd()` is the unparsed rest (inside
// stringReceived: what follows the string; inside lengthLimitExceeded: the whole message), and
// setRecvd() replaces it once stringReceived returns, as assigning Twisted's `recvd` does.
//
// Differences: sendString returns string_too_long instead of raising StringTooLongError; after
// lengthLimitExceeded, later data is dropped (Twisted buffers it without bound and reports the same
// prefix again on every call).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "torsion/core/result.hpp"
#include "torsion/protocols/detail/receive_scope.hpp"
#include "torsion/protocols/int_prefix_framer.hpp"
#include "torsion/protocols/pauseable.hpp"

namespace torsion::twisted {

class IntNStringReceiver : public PauseableMixin {
 public:
  std::size_t MAX_LENGTH = 99999;
  const unsigned prefixLength;

  void dataReceived(std::string_view data) override;
  // Override to receive each string. The default throws (NotImplementedError).
  virtual void stringReceived(std::string_view string);
  virtual void lengthLimitExceeded(std::uint64_t length);
  // The prefix and the string, with one writeSequence call. string_too_long if the string has
  // 2^(8 * prefixLength) bytes or more (nothing is written then).
  result<void> sendString(std::string_view string);

  std::string_view recvd() const noexcept { return framer_.buffer().data(); }
  void setRecvd(std::string_view data) { new_recvd_.emplace(data); }

 protected:
  explicit IntNStringReceiver(unsigned prefix_length) : prefixLength(prefix_length) {}

 private:
  int_prefix_framer framer_;
  torsion::detail::receive_state rx_;
  std::optional<std::string> new_recvd_;
};

class Int32StringReceiver : public IntNStringReceiver {
 public:
  Int32StringReceiver() : IntNStringReceiver(4) {}
};

class Int16StringReceiver : public IntNStringReceiver {
 public:
  Int16StringReceiver() : IntNStringReceiver(2) {}
};

class Int8StringReceiver : public IntNStringReceiver {
 public:
  Int8StringReceiver() : IntNStringReceiver(1) {}
};

}  // namespace torsion::twisted
