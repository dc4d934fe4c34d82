#pragma once
// The coroutine surface of the framing parsers: read lines, netstrings or length-prefixed strings
// from a tcp_stream with co_await, and write them. The readers receive straight into the parser's
// buffer, and each message is a view into it (valid until the next call), so the only copy is the
// kernel's. Format errors are error values: line_too_long, netstring_parse_error,
// length_limit_exceeded; connection_done when the stream ends (a partial message stays in
// buffered()). The same parsers run the callback classes (LineReceiver, NetstringReceiver,
// Int32StringReceiver, ...), with the same limits and boundary rules.
//
//   line_reader lines(stream);
//   for (;;) {
//     auto line = co_await lines.next();
//     if (!line) break;                      // line_too_long, connection_done, or a read error
//     co_await write_line(stream, line.value());
//   }
#include <cstddef>
#include <string>
#include <string_view>

#include "torsion/core/result.hpp"
#include "torsion/core/task.hpp"
#include "torsion/net/tcp_stream.hpp"
#include "torsion/protocols/int_prefix_framer.hpp"
#include "torsion/protocols/line_framer.hpp"
#include "torsion/protocols/netstring_framer.hpp"

namespace torsion {

class line_reader {
 public:
  struct options {
    std::string delimiter = "\r\n";
    std::size_t max_length = 16384;
    line_rules rules = line_rules::line_receiver;
    std::size_t read_size = 16384;
  };

  explicit line_reader(tcp_stream& s) : line_reader(s, options{}) {}
  line_reader(tcp_stream& s, options o) : stream_(s), opts_(std::move(o)) {}

  // The next line, without its delimiter. After line_too_long the over-long bytes are gone and the
  // next call goes on with what follows them.
  task<result<std::string_view>> next();
  std::string_view buffered() const noexcept { return framer_.buffer().data(); }
  std::size_t buffer_capacity() const noexcept { return framer_.buffer().capacity(); }

 private:
  tcp_stream& stream_;
  options opts_;
  line_framer framer_;
};

class netstring_reader {
 public:
  explicit netstring_reader(tcp_stream& s, std::size_t max_length = 99999, std::size_t read_size = 16384)
      : stream_(s), max_length_(max_length), read_size_(read_size) {}

  // The next payload. netstring_parse_error is final: every later call returns it too.
  task<result<std::string_view>> next();
  // Why the stream was rejected, or null.
  const char* parse_error() const noexcept { return framer_.reason(); }
  std::size_t buffer_capacity() const noexcept { return framer_.buffer().capacity(); }

 private:
  tcp_stream& stream_;
  std::size_t max_length_;
  std::size_t read_size_;
  netstring_framer framer_;
};

class int_string_reader {
 public:
  // prefix_length 1, 2 or 4 (Int8, Int16, Int32StringReceiver's formats).
  explicit int_string_reader(tcp_stream& s, unsigned prefix_length = 4, std::size_t max_length = 99999,
                             std::size_t read_size = 16384)
      : stream_(s), prefix_length_(prefix_length), max_length_(max_length), read_size_(read_size) {}

  // The next string. length_limit_exceeded is final; exceeded_length() tells the announced length.
  task<result<std::string_view>> next();
  std::uint64_t exceeded_length() const noexcept { return exceeded_; }
  std::size_t buffer_capacity() const noexcept { return framer_.buffer().capacity(); }

 private:
  tcp_stream& stream_;
  unsigned prefix_length_;
  std::size_t max_length_;
  std::size_t read_size_;
  int_prefix_framer framer_;
  std::uint64_t exceeded_ = 0;
};

// Writers: the framing and the payload go out in one gathered send; nothing is copied. The views
// must stay valid until the returned task completes.
task<result<void>> write_line(tcp_stream& s, std::string_view line, std::string_view delimiter = "\r\n");
task<result<void>> write_netstring(tcp_stream& s, std::string_view payload);
// string_too_long (nothing sent) if the payload does not fit the prefix.
task<result<void>> write_int_string(tcp_stream& s, std::string_view payload, unsigned prefix_length = 4);

}  // namespace torsion
