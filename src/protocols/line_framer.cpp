#include "torsion/protocols/line_framer.hpp"

namespace torsion {

line_framer::item line_framer::next(std::string_view delimiter, std::size_t max_length, line_rules rules) {
  if (delimiter != last_delimiter_) {
    last_delimiter_.assign(delimiter);
    scanned_ = 0;
  }
  const std::string_view data = buf_.data();
  if (scanned_ > data.size()) scanned_ = 0;  // the buffer was replaced or cleared from outside
  const std::size_t at = delimiter.empty() ? std::string_view::npos : data.find(delimiter, scanned_);

  if (at == std::string_view::npos) {
    // Resume the search where a delimiter could still begin.
    scanned_ = data.size() >= delimiter.size() ? data.size() - delimiter.size() + 1 : 0;
    // data.size() >= max_length + delimiter.size(), written so that a max_length near SIZE_MAX
    // ("no limit") cannot wrap the sum; and an empty buffer is never too long (with a zero
    // threshold it would be reported over and over without consuming anything).
    const bool too_long = rules == line_rules::line_receiver
                              ? data.size() >= delimiter.size() && data.size() - delimiter.size() >= max_length
                              : data.size() > max_length;
    if (!too_long || data.empty()) return {status::need_more, {}};
    buf_.consume(data.size());
    scanned_ = 0;
    return {status::too_long, data};
  }

  scanned_ = 0;
  if (at > max_length) {
    if (rules == line_rules::line_receiver) {
      buf_.consume(data.size());
      return {status::too_long, data};
    }
    // LineOnlyReceiver split the whole buffer first and keeps only the piece after the last delimiter.
    const std::size_t last = data.rfind(delimiter);
    buf_.consume(last + delimiter.size());
    return {status::too_long, data.substr(0, at)};
  }
  buf_.consume(at + delimiter.size());
  return {status::line, data.substr(0, at)};
}

}  // namespace torsion
