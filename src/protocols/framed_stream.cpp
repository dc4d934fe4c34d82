#include "torsion/protocols/framed_stream.hpp"

#include <sys/uio.h>

#include <array>
#include <optional>
#include <span>

namespace torsion {

namespace {

// Receive into `buf` until `parse` returns a frame or an error (it returns nullopt for "need more").
template <class Parse>
task<result<std::string_view>> read_frame(tcp_stream& s, framing_buffer& buf, std::size_t read_size, Parse parse) {
  for (;;) {
    std::optional<result<std::string_view>> frame = parse();
    if (frame) co_return std::move(*frame);
    const std::span<char> space = buf.prepare(read_size);
    auto n = co_await s.read_some(std::as_writable_bytes(space));
    if (!n) co_return n.error();
    if (n.value() == 0) co_return failure(errc::connection_done);
    buf.commit(n.value());
  }
}

iovec iov_of(std::string_view v) noexcept { return {const_cast<char*>(v.data()), v.size()}; }

}  // namespace

task<result<std::string_view>> line_reader::next() {
  return read_frame(stream_, framer_.buffer(), opts_.read_size, [this]() -> std::optional<result<std::string_view>> {
    const auto it = framer_.next(opts_.delimiter, opts_.max_length, opts_.rules);
    switch (it.st) {
      case line_framer::status::need_more: return std::nullopt;
      case line_framer::status::too_long: return result<std::string_view>(failure(errc::line_too_long));
      case line_framer::status::line: break;
    }
    return result<std::string_view>(it.bytes);
  });
}

task<result<std::string_view>> netstring_reader::next() {
  return read_frame(stream_, framer_.buffer(), read_size_, [this]() -> std::optional<result<std::string_view>> {
    const auto it = framer_.next(max_length_);
    switch (it.st) {
      case netstring_framer::status::need_more: return std::nullopt;
      case netstring_framer::status::error: return result<std::string_view>(failure(errc::netstring_parse_error));
      case netstring_framer::status::string: break;
    }
    return result<std::string_view>(it.payload);
  });
}

task<result<std::string_view>> int_string_reader::next() {
  return read_frame(stream_, framer_.buffer(), read_size_, [this]() -> std::optional<result<std::string_view>> {
    const auto it = framer_.next(prefix_length_, max_length_);
    switch (it.st) {
      case int_prefix_framer::status::need_more: return std::nullopt;
      case int_prefix_framer::status::length_exceeded:
        if (it.length) exceeded_ = it.length;
        return result<std::string_view>(failure(errc::length_limit_exceeded));
      case int_prefix_framer::status::string: break;
    }
    return result<std::string_view>(it.payload);
  });
}

task<result<void>> write_line(tcp_stream& s, std::string_view line, std::string_view delimiter) {
  const std::array<iovec, 2> iov{iov_of(line), iov_of(delimiter)};
  co_return co_await s.write_all(std::span<const iovec>(iov));
}

task<result<void>> write_netstring(tcp_stream& s, std::string_view payload) {
  std::array<char, 24> head{};
  const std::array<iovec, 3> iov{iov_of(netstring_head(payload.size(), head)), iov_of(payload), iov_of(",")};
  co_return co_await s.write_all(std::span<const iovec>(iov));
}

task<result<void>> write_int_string(tcp_stream& s, std::string_view payload, unsigned prefix_length) {
  if (payload.size() > int_prefix_max(prefix_length)) co_return failure(errc::string_too_long);
  std::array<char, 8> prefix{};
  encode_int_prefix(payload.size(), prefix_length, prefix.data());
  const std::array<iovec, 2> iov{iov_of({prefix.data(), prefix_length}), iov_of(payload)};
  co_return co_await s.write_all(std::span<const iovec>(iov));
}

}  // namespace torsion
