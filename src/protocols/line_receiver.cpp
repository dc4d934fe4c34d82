#include "torsion/protocols/line_receiver.hpp"

#include <array>
#include <stdexcept>

namespace torsion::twisted {

namespace {

void write_line(ITransport* t, std::string_view line, std::string_view delimiter) {
  if (!t) return;
  const std::array<std::string_view, 2> pieces{line, delimiter};
  t->writeSequence(pieces);
}

}  // namespace

void LineReceiver::dataReceived(std::string_view data) {
  framing_buffer& buf = framer_.buffer();
  if (!rx_.enter(buf, data)) return;
  torsion::detail::receive_scope scope(rx_, buf);
  while (!paused) {
    rx_.merge(buf);
    if (buf.empty()) return;
    if (line_mode) {
      const auto it = framer_.next(delimiter, MAX_LENGTH, line_rules::line_receiver);
      if (it.st == line_framer::status::need_more) return;
      if (it.st == line_framer::status::too_long) {
        lineLengthExceeded(it.bytes);
        return;
      }
      lineReceived(it.bytes);
      if (transport && transport->disconnecting) return;
    } else {
      rawDataReceived(framer_.take_view());
    }
  }
}

void LineReceiver::lineReceived(std::string_view) {
  throw std::logic_error("NotImplementedError: LineReceiver.lineReceived must be overridden");
}

void LineReceiver::rawDataReceived(std::string_view) {
  throw std::logic_error("NotImplementedError: LineReceiver.rawDataReceived must be overridden");
}

void LineReceiver::lineLengthExceeded(std::string_view) {
  if (transport) transport->loseConnection();
}

void LineReceiver::setLineMode(std::string_view extra) {
  line_mode = 1;
  if (!extra.empty()) dataReceived(extra);
}

std::string LineReceiver::clearLineBuffer() {
  // Data received re-entrantly belongs to the buffer too (Twisted appends it at once). It waits in
  // its own queue so that the buffer never moves under a callback's view; hand it over from there.
  std::string out = framer_.take();
  out += rx_.reentrant;
  rx_.reentrant.clear();
  return out;
}

void LineReceiver::sendLine(std::string_view line) { write_line(transport, line, delimiter); }

void LineOnlyReceiver::dataReceived(std::string_view data) {
  framing_buffer& buf = framer_.buffer();
  if (!rx_.enter(buf, data)) return;
  torsion::detail::receive_scope scope(rx_, buf);
  for (;;) {
    rx_.merge(buf);
    if (transport && transport->disconnecting) {
      // Twisted split the chunk into lines before the loop: the complete ones are dropped.
      const std::string_view rest = buf.data();
      const std::size_t last = delimiter.empty() ? std::string_view::npos : rest.rfind(delimiter);
      if (last != std::string_view::npos) buf.consume(last + delimiter.size());
      return;
    }
    const auto it = framer_.next(delimiter, MAX_LENGTH, line_rules::line_only_receiver);
    if (it.st == line_framer::status::need_more) return;
    if (it.st == line_framer::status::too_long) {
      lineLengthExceeded(it.bytes);
      return;
    }
    lineReceived(it.bytes);
  }
}

void LineOnlyReceiver::lineReceived(std::string_view) {
  throw std::logic_error("NotImplementedError: LineOnlyReceiver.lineReceived must be overridden");
}

void LineOnlyReceiver::lineLengthExceeded(std::string_view) {
  if (transport) transport->loseConnection();
}

void LineOnlyReceiver::sendLine(std::string_view line) { write_line(transport, line, delimiter); }

}  // namespace torsion::twisted
