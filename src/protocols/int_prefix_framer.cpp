#include "torsion/protocols/int_prefix_framer.hpp"

namespace torsion {

int_prefix_framer::item int_prefix_framer::next(unsigned prefix_length, std::size_t max_length) {
  if (broken_) return {status::length_exceeded, {}, 0};
  const std::string_view data = buf_.data();
  if (data.size() < prefix_length) return {status::need_more, {}};
  std::uint64_t length = 0;
  for (unsigned i = 0; i < prefix_length; ++i) length = (length << 8) | static_cast<unsigned char>(data[i]);
  if (length > max_length) {
    broken_ = true;
    return {status::length_exceeded, {}, length};
  }
  if (data.size() - prefix_length < length) return {status::need_more, {}};
  const std::string_view payload = data.substr(prefix_length, static_cast<std::size_t>(length));
  buf_.consume(prefix_length + static_cast<std::size_t>(length));
  return {status::string, payload, length};
}

void encode_int_prefix(std::uint64_t length, unsigned prefix_length, char* out) noexcept {
  for (unsigned i = prefix_length; i-- > 0; length >>= 8) out[i] = static_cast<char>(length & 0xff);
}

}  // namespace torsion
