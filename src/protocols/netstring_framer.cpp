#include "torsion/protocols/netstring_framer.hpp"

#include <charconv>
#include <limits>

namespace torsion {

namespace {
constexpr const char* missing_length = "The received netstring does not start with a length specification.";
constexpr const char* too_long = "The received netstring is longer than the maximum specified by MAX_LENGTH";
constexpr const char* missing_comma = "The received netstring is not terminated by a comma.";

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
}  // namespace

std::string_view netstring_head(std::size_t n, std::array<char, 24>& out) noexcept {
  char* end = std::to_chars(out.data(), out.data() + out.size() - 1, n).ptr;
  *end++ = ':';
  return {out.data(), static_cast<std::size_t>(end - out.data())};
}

std::size_t netstring_max_digits(std::size_t max_length) noexcept {
  // ceil(log10(m)) is the number of digits of m - 1 (for m >= 2); exact in integers, unlike log10.
  std::size_t digits = 0;
  for (std::size_t v = max_length > 1 ? max_length - 1 : 0; v > 0; v /= 10) ++digits;
  return digits + 1;
}

netstring_framer::item netstring_framer::fail(const char* why) noexcept {
  reason_ = why;
  buf_.clear();
  return {status::error, {}};
}

netstring_framer::item netstring_framer::next(std::size_t max_length) {
  if (broken()) {
    buf_.clear();
    return {status::error, {}};
  }
  std::string_view data = buf_.data();
  if (expected_ == 0) {
    const std::size_t max_digits = netstring_max_digits(max_length);
    std::size_t i = 0;
    std::size_t length = 0;
    for (; i < data.size() && is_digit(data[i]); ++i) {
      if (i == 1 && data[0] == '0') return fail(missing_length);  // leading zero
      if (i + 1 > max_digits) return fail(too_long);
      // length * 10 + digit > max_length, checked before it is computed: with a max_length near
      // SIZE_MAX the digits allowed could overflow it.
      const auto digit = static_cast<std::size_t>(data[i] - '0');
      if (digit > max_length || length > (max_length - digit) / 10) return fail(too_long);
      length = length * 10 + digit;
    }
    if (i == data.size()) return {status::need_more, {}};
    if (data[i] != ':' || i == 0) return fail(missing_length);
    // The payload and its comma must be countable (expected_ = length + 1).
    if (length == std::numeric_limits<std::size_t>::max()) return fail(too_long);
    buf_.consume(i + 1);
    expected_ = length + 1;
    data = buf_.data();
  }
  if (data.size() < expected_) return {status::need_more, {}};
  if (data[expected_ - 1] != ',') return fail(missing_comma);
  const std::string_view payload = data.substr(0, expected_ - 1);
  buf_.consume(expected_);
  expected_ = 0;
  return {status::string, payload};
}

}  // namespace torsion
