// LineReceiver on a StringTransport, fed in fuzzer-chosen chunks, with callbacks that use every
// feature the class has. Lines act as commands: "R" raw mode (for `extra` bytes, then back to line
// mode with the rest via setLineMode(rest); `extra` 0 means for good), "P" pauseProducing, "Q"
// loseConnection, "C" clearLineBuffer, "D" switch to the alternative delimiter and back, "S" a
// re-entrant dataReceived. Flags: bit 0 lineLengthExceeded loses the connection (else it carries
// on), bit 1 resume after every chunk when paused (else at the end), bits 2-3 every 1st/2nd/3rd
// chunk the driver flips raw/line mode from outside (0: never).
//
// Checked: every byte fed is accounted for, in order, by a callback (line plus delimiter, raw
// bytes, too-long bytes, cleared bytes) or is still buffered; lines fit MAX_LENGTH, hold no
// delimiter, and never arrive while paused; lineLengthExceeded gets at least MAX_LENGTH +
// len(delimiter) bytes; once disconnecting, a dataReceived call delivers at most one line; when
// running, a call leaves no complete line and less than MAX_LENGTH + len(delimiter) bytes buffered
// (nothing in raw mode); sendLine output parses back to the same lines.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"
#include "line_common.hpp"
#include "torsion/protocols/line_receiver.hpp"
#include "torsion/testing/string_transport.hpp"

namespace {

using namespace torsion;
using fuzz::line_settings;

constexpr auto npos = std::string_view::npos;

class receiver final : public fuzz::scripted_receiver<twisted::LineReceiver> {
 public:
  using scripted_receiver::scripted_receiver;
  std::size_t delivered = 0;

  void enter_raw_mode() {
    setRawMode();
    raw_left_ = s_.extra;
  }

  void lineReceived(std::string_view line) override {
    FUZZ_CHECK(line_mode && !paused);
    ++delivered;
    if (shared_line(line)) return;
    if (line == "R") {
      enter_raw_mode();
    } else if (line == "P") {
      pauseProducing();
    } else if (line == "C") {
      log += clearLineBuffer();
    }
  }

  void rawDataReceived(std::string_view data) override {
    FUZZ_CHECK(!line_mode && !paused && !data.empty());
    if (s_.extra == 0) {
      log += data;
      return;
    }
    const std::size_t take = std::min(data.size(), raw_left_);
    log += data.substr(0, take);
    raw_left_ -= take;
    if (raw_left_ == 0) setLineMode(data.substr(take));
  }

  void lineLengthExceeded(std::string_view bytes) override {
    FUZZ_CHECK(fuzz::at_least(bytes.size(), MAX_LENGTH, delimiter.size()));
    log += bytes;
    if (s_.flags & 1) LineReceiver::lineLengthExceeded(bytes);
  }

 private:
  std::size_t raw_left_ = 0;
};

void check_state(const receiver& r, const testing::StringTransport& t, const std::string& fed) {
  const std::string_view held = r.buffered();
  FUZZ_CHECK(r.log.size() + held.size() == fed.size());
  FUZZ_CHECK(std::string_view(fed).substr(0, r.log.size()) == r.log);
  FUZZ_CHECK(std::string_view(fed).substr(r.log.size()) == held);
  if (r.paused || t.disconnecting) return;
  if (!r.line_mode) {
    FUZZ_CHECK(held.empty());
    return;
  }
  FUZZ_CHECK(r.delimiter.empty() || held.find(r.delimiter) == npos);
  FUZZ_CHECK(held.empty() || !fuzz::at_least(held.size(), r.MAX_LENGTH, r.delimiter.size()));
}

// One dataReceived (or resumeProducing) call: once disconnecting, it delivers one line at most.
template <class F>
void deliver(receiver& r, const testing::StringTransport& t, const std::string& fed, F&& call) {
  const bool disconnecting = t.disconnecting;
  const std::size_t before = r.delivered;
  call();
  if (disconnecting) FUZZ_CHECK(r.delivered - before <= 1);
  check_state(r, t, fed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const line_settings s(in);
  fuzz::chunker chunks(in.byte());
  const unsigned flip_period = (s.flags >> 2) & 3;
  std::string_view rest = in.rest();

  // Lenient: pausing after loseConnection is allowed (a "Q" line can come before a "P" line).
  testing::StringTransport t({"TCP", "10.0.0.1", 1}, {"TCP", "10.0.0.2", 2}, true);
  std::string fed;
  receiver r(s, fed);
  r.makeConnection(&t);
  for (unsigned n = 1; !rest.empty(); ++n) {
    const std::string_view chunk = chunks.next(rest);
    fed += chunk;
    deliver(r, t, fed, [&] { r.dataReceived(chunk); });
    if (r.paused && (s.flags & 2)) deliver(r, t, fed, [&] { r.resumeProducing(); });
    if (flip_period != 0 && n % flip_period == 0) {
      if (r.line_mode) {
        r.enter_raw_mode();
      } else {
        r.setLineMode();
      }
    }
  }
  // A "P" line delivered while resuming pauses again.
  while (r.paused) deliver(r, t, fed, [&] { r.resumeProducing(); });

  fuzz::check_round_trip<twisted::LineReceiver>(r.lines, s.delimiter, s.max_length);
  return 0;
}
