#pragma once
// Shared by the LineReceiver and LineOnlyReceiver targets: their settings, the bookkeeping that
// accounts for every byte fed, and the sendLine -> dataReceived round trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"
#include "torsion/testing/string_transport.hpp"

namespace torsion::fuzz {

// Input: [flags] [max_length] [delimiter length % 4] [delimiter] [length % 4] [alternative
// delimiter, switched to by a "D" line] [extra setting] [chunking] payload.
struct line_settings {
  std::uint8_t flags = 0;
  std::size_t max_length = 0;
  std::string delimiter;
  std::string alternative;
  std::uint8_t extra = 0;

  explicit line_settings(input& in) {
    flags = in.byte();
    max_length = max_length_from(in.byte());
    delimiter = in.bytes(in.byte() % 4);
    alternative = in.bytes(in.byte() % 4);
    extra = in.byte();
  }
};

// The part of the fuzzed receivers both classes share: settings applied, the log of what the
// callbacks saw, the line checks, and the commands "Q" loseConnection, "D" switch to the
// alternative delimiter and back, "S" a re-entrant dataReceived.
template <class Receiver>
class scripted_receiver : public Receiver {
 public:
  scripted_receiver(const line_settings& s, std::string& fed) : s_(s), fed_(fed) {
    this->delimiter = s.delimiter;
    this->MAX_LENGTH = s.max_length;
  }

  std::string log;                 // the input as the callbacks saw it (and as dropped)
  std::vector<std::string> lines;  // lines that came with the main delimiter

 protected:
  // Check and log a delivered line and run the shared commands; false if it was none of them.
  bool shared_line(std::string_view line) {
    FUZZ_CHECK(line.size() <= this->MAX_LENGTH);
    FUZZ_CHECK(!this->delimiter.empty() && line.find(this->delimiter) == std::string_view::npos);
    log += line;
    log += this->delimiter;
    if (this->delimiter == s_.delimiter) lines.emplace_back(line);
    if (line == "Q") {
      this->transport->loseConnection();
    } else if (line == "D") {
      this->delimiter = this->delimiter == s_.delimiter ? s_.alternative : s_.delimiter;
    } else if (line == "S") {
      // Re-entrant data joins the stream after everything received so far.
      const std::string more = "s" + this->delimiter;
      fed_ += more;
      this->dataReceived(more);
    } else {
      return false;
    }
    return true;
  }

  const line_settings& s_;
  std::string& fed_;
};

// Collects the lines a LineReceiver or LineOnlyReceiver delivers (the round trip's far end).
template <class Receiver>
struct line_collector : Receiver {
  std::vector<std::string> lines;
  void lineReceived(std::string_view line) override { lines.emplace_back(line); }
};

// n >= max + dlen, without overflowing.
inline bool at_least(std::size_t n, std::size_t max, std::size_t dlen) { return n >= dlen && n - dlen >= max; }

// Whether `line` comes back as itself from `line + delimiter` (not so when the delimiter overlaps
// the end of the line, as "x" + "a" with delimiter "aa").
inline bool frames_back(std::string_view line, std::string_view delimiter) {
  return !delimiter.empty() && (std::string(line) + std::string(delimiter)).find(delimiter) == line.size();
}

// Send every line with Receiver::sendLine, feed what was written to a fresh Receiver, and check
// that the same lines come out and nothing is left over.
template <class Receiver>
void check_round_trip(const std::vector<std::string>& lines, const std::string& delimiter, std::size_t max_length) {
  if (delimiter.empty()) return;
  testing::StringTransport out;
  Receiver sender;
  sender.delimiter = delimiter;
  sender.makeConnection(&out);
  std::vector<std::string> expected;
  for (const auto& l : lines) {
    if (l.size() > max_length || !frames_back(l, delimiter)) continue;
    sender.sendLine(l);
    expected.push_back(l);
  }
  testing::StringTransport in;
  line_collector<Receiver> back;
  back.delimiter = delimiter;
  back.MAX_LENGTH = max_length;
  back.makeConnection(&in);
  back.dataReceived(out.value());
  FUZZ_CHECK(back.lines == expected);
  FUZZ_CHECK(back.buffered().empty());
  FUZZ_CHECK(!in.disconnecting);
}

}  // namespace torsion::fuzz
