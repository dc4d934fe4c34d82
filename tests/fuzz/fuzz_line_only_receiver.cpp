// LineOnlyReceiver on a StringTransport, fed in fuzzer-chosen chunks. Lines act as commands: "Q"
// loseConnection, "D" switch to the alternative delimiter and back, "S" a re-entrant dataReceived.
// Flags: bit 0 lineLengthExceeded loses the connection (else it carries on).
//
// Checked: every byte fed is accounted for, in order, as a line plus delimiter, as bytes reported
// too long, as the complete lines dropped behind an over-long line or after loseConnection
// (Twisted's rules), or as still buffered; lines fit MAX_LENGTH, hold no delimiter, and none
// arrives once the transport is disconnecting; lineLengthExceeded gets more than MAX_LENGTH bytes
// and no delimiter; a receiver buffers no complete line and, while connected, at most MAX_LENGTH
// bytes or the chunk that was just fed;
// sendLine output parses back to the same lines.
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

class receiver final : public fuzz::scripted_receiver<twisted::LineOnlyReceiver> {
 public:
  using scripted_receiver::scripted_receiver;

  void lineReceived(std::string_view line) override {
    FUZZ_CHECK(!transport->disconnecting);
    shared_line(line);
  }

  void lineLengthExceeded(std::string_view bytes) override {
    FUZZ_CHECK(bytes.size() > MAX_LENGTH);
    FUZZ_CHECK(delimiter.empty() || bytes.find(delimiter) == npos);
    FUZZ_CHECK(std::string_view(fed_).substr(log.size()).starts_with(bytes));
    log += bytes;
    account_dropped();
    if (s_.flags & 1) LineOnlyReceiver::lineLengthExceeded(bytes);
  }

  // Whatever left the buffer without a callback must be complete lines: delimiter ... delimiter
  // right after an over-long line, or ... delimiter after loseConnection.
  void account_dropped() {
    const std::size_t held = buffered().size();
    FUZZ_CHECK(log.size() + held <= fed_.size());
    const std::string_view dropped = std::string_view(fed_).substr(log.size(), fed_.size() - held - log.size());
    FUZZ_CHECK(dropped.empty() || dropped.ends_with(delimiter));
    log += dropped;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const line_settings s(in);
  fuzz::chunker chunks(in.byte());
  std::string_view rest = in.rest();

  testing::StringTransport t;
  std::string fed;
  receiver r(s, fed);
  r.makeConnection(&t);
  while (!rest.empty()) {
    const std::string_view chunk = chunks.next(rest);
    fed += chunk;
    r.dataReceived(chunk);
    if (t.disconnecting) r.account_dropped();

    const std::string_view held = r.buffered();
    FUZZ_CHECK(r.log.size() + held.size() == fed.size());
    FUZZ_CHECK(std::string_view(fed).substr(0, r.log.size()) == r.log);
    FUZZ_CHECK(r.delimiter.empty() || held.find(r.delimiter) == npos);
    // Over MAX_LENGTH only the piece after an over-long line's last delimiter, which came in this chunk.
    if (!t.disconnecting) FUZZ_CHECK(held.size() <= std::max(r.MAX_LENGTH, chunk.size()));
  }

  fuzz::check_round_trip<twisted::LineOnlyReceiver>(r.lines, s.delimiter, s.max_length);
  return 0;
}
