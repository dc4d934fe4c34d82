#pragma once
// The netstring parser behind NetstringReceiver and the coroutine netstring_reader:
// "<length>:<payload>," with the length (0|[1-9][0-9]*) at most max_length, as Twisted checks it
// (twisted-semantics §4.3). Errors are found as early as Twisted finds them: a leading zero, a
// non-digit, or more digits than ceil(log10(max_length)) + 1, before the colon arrives; a length
// over max_length at once; a missing comma once the payload is in. After an error the framer stays
// broken and drops whatever it is given.
#include <array>
#include <cstddef>
#include <string_view>

#include "torsion/protocols/framing_buffer.hpp"

namespace torsion {

class netstring_framer {
 public:
  enum class status { need_more, string, error };
  struct item {
    status st;
    std::string_view payload;
  };

  item next(std::size_t max_length);

  bool broken() const noexcept { return reason_ != nullptr; }
  // Why it broke (Twisted's NetstringParseError message), or null.
  const char* reason() const noexcept { return reason_; }
  // Payload length plus one for the comma, while a payload is being received (Twisted's
  // _expectedPayloadSize); 0 while reading a length.
  std::size_t expected_payload_size() const noexcept { return expected_; }

  framing_buffer& buffer() noexcept { return buf_; }
  const framing_buffer& buffer() const noexcept { return buf_; }
  void reset() noexcept {
    buf_.clear();
    expected_ = 0;
    reason_ = nullptr;
  }

 private:
  item fail(const char* why) noexcept;

  framing_buffer buf_;
  std::size_t expected_ = 0;
  const char* reason_ = nullptr;
};

// "<n>:" written into `out` (24 bytes hold any size_t); the returned view points into it.
std::string_view netstring_head(std::size_t n, std::array<char, 24>& out) noexcept;

// ceil(log10(max_length)) + 1: the most digits a length may have (6 for 99999).
std::size_t netstring_max_digits(std::size_t max_length) noexcept;

}  // namespace torsion
