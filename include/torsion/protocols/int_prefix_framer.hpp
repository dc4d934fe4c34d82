#pragma once
// The length-prefixed parser behind Int8/Int16/Int32StringReceiver and the coroutine
// int_string_reader: a big-endian unsigned prefix of 1, 2 or 4 bytes, then that many bytes
// (twisted-semantics §4.4). The length is checked against max_length as soon as the prefix is in,
// before any of the payload is waited for, so an oversize prefix never makes it buffer. After that
// error the framer keeps the offending message in the buffer (Twisted's `recvd` shows it) and
// drops everything it is given later.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "torsion/protocols/framing_buffer.hpp"

namespace torsion {

class int_prefix_framer {
 public:
  enum class status { need_more, string, length_exceeded };
  struct item {
    status st;
    std::string_view payload;
    std::uint64_t length = 0;  // the announced length (for length_exceeded)
  };

  item next(unsigned prefix_length, std::size_t max_length);

  bool broken() const noexcept { return broken_; }
  framing_buffer& buffer() noexcept { return buf_; }
  const framing_buffer& buffer() const noexcept { return buf_; }
  void reset() noexcept {
    buf_.clear();
    broken_ = false;
  }

 private:
  framing_buffer buf_;
  bool broken_ = false;
};

// The largest payload a prefix of `prefix_length` bytes can announce.
constexpr std::uint64_t int_prefix_max(unsigned prefix_length) noexcept {
  return prefix_length >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * prefix_length)) - 1;
}

// Write `length` big-endian into out[0..prefix_length).
void encode_int_prefix(std::uint64_t length, unsigned prefix_length, char* out) noexcept;

}  // namespace torsion
