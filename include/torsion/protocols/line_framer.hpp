#pragma once
// The line parser behind LineReceiver, LineOnlyReceiver and the coroutine line_reader. It applies
// Twisted's two sets of length rules exactly (twisted-semantics §4.1, §4.2):
//  - line_receiver: a terminated line longer than max_length is too long, and the whole buffer
//    (line + delimiter + rest) is handed over; an unterminated buffer is too long only once it holds
//    max_length + len(delimiter) bytes (the last bytes might start a delimiter);
//  - line_only_receiver: a terminated line longer than max_length is too long (the line alone; what
//    follows up to the last delimiter is dropped), and so is an unterminated buffer over max_length.
// Either way the bytes reported too long leave the buffer, so a peer sending garbage cannot make it
// hold more than max_length + len(delimiter) + one received chunk.
#include <cstddef>
#include <string>
#include <string_view>

#include "torsion/protocols/framing_buffer.hpp"

namespace torsion {

enum class line_rules { line_receiver, line_only_receiver };

class line_framer {
 public:
  enum class status { need_more, line, too_long };
  struct item {
    status st;
    std::string_view bytes;  // the line without its delimiter, or what is too long
  };

  // The next line in the buffer. Delimiter and limit are given on each call, since Twisted lets a
  // protocol change them between lines. An empty delimiter never matches.
  item next(std::string_view delimiter, std::size_t max_length, line_rules rules);

  framing_buffer& buffer() noexcept { return buf_; }
  const framing_buffer& buffer() const noexcept { return buf_; }
  // Forget everything buffered (clearLineBuffer, raw mode) and return it.
  std::string take() {
    scanned_ = 0;
    return buf_.take();
  }
  // The same without a copy (raw mode): valid until bytes are added. Bytes must leave the buffer
  // through the framer, or the next search would skip the start of what arrives next.
  std::string_view take_view() noexcept {
    scanned_ = 0;
    const std::string_view all = buf_.data();
    buf_.consume(all.size());
    return all;
  }

 private:
  framing_buffer buf_;
  std::size_t scanned_ = 0;  // bytes at the front known to hold no complete delimiter
  std::string last_delimiter_;
};

}  // namespace torsion
