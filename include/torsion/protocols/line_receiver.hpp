#pragma once
// Twisted's LineReceiver (twisted-semantics §4.1), line for line: delimiter "\r\n", MAX_LENGTH 16384,
// line mode and raw mode, lineLengthExceeded with the buffer from the over-long line on, delivery
// that stops after a line once the transport is disconnecting, pausing, and re-entrant
// dataReceived calls buffered for the outer loop. The loop is iterative (no recursion on mode flips).
//
// Differences (README porting guide): callbacks return void, so a return value cannot stop the
// loop (use pauseProducing or loseConnection); sendLine writes the line and the delimiter with one
// writeSequence call instead of joining them. Views passed to callbacks are valid during the call.
#include <string>
#include <string_view>

#include "torsion/protocols/detail/receive_scope.hpp"
#include "torsion/protocols/line_framer.hpp"
#include "torsion/protocols/pauseable.hpp"

namespace torsion::twisted {

class LineReceiver : public PauseableMixin {
 public:
  std::string delimiter = "\r\n";
  std::size_t MAX_LENGTH = 16384;
  int line_mode = 1;

  void dataReceived(std::string_view data) override;

  // Override to receive each line, without its delimiter. The default throws (NotImplementedError).
  virtual void lineReceived(std::string_view line);
  // Override to receive data in raw mode. The default throws (NotImplementedError).
  virtual void rawDataReceived(std::string_view data);
  // A line longer than MAX_LENGTH: `line` is the buffer from that line on, delimiter included.
  // The default loses the connection.
  virtual void lineLengthExceeded(std::string_view line);

  // Back to line mode; `extra` is then parsed as lines (not to be used from inside lineReceived).
  void setLineMode(std::string_view extra = {});
  void setRawMode() { line_mode = 0; }
  // Empty the buffer and return what it held (with any data received re-entrantly meanwhile); may be
  // called from inside lineReceived.
  std::string clearLineBuffer();
  void sendLine(std::string_view line);

  // What is buffered and not yet delivered (tests).
  std::string_view buffered() const noexcept { return framer_.buffer().data(); }

 private:
  line_framer framer_;
  torsion::detail::receive_state rx_;
};

// Twisted's LineOnlyReceiver (§4.2): lines only, no raw mode, no pausing; delivery stops before the
// next line once the transport is disconnecting; a line over MAX_LENGTH (terminated or not) goes to
// lineLengthExceeded, which by default loses the connection. Unlike Twisted, the over-long bytes
// are dropped from the buffer, so a lineLengthExceeded that keeps the connection cannot make it grow.
class LineOnlyReceiver : public Protocol {
 public:
  std::string delimiter = "\r\n";
  std::size_t MAX_LENGTH = 16384;

  void dataReceived(std::string_view data) override;
  virtual void lineReceived(std::string_view line);
  virtual void lineLengthExceeded(std::string_view line);
  void sendLine(std::string_view line);

  std::string_view buffered() const noexcept { return framer_.buffer().data(); }

 private:
  line_framer framer_;
  torsion::detail::receive_state rx_;
};

}  // namespace torsion::twisted
