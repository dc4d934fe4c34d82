// line_framer under both rule sets, a delimiter of 0-3 bytes and any max_length, fed in chunks by
// each of the three feeding paths. Input: [flags: bit 0 rules, bits 1+ feed mode] [max_length]
// [delimiter length % 4] [delimiter] [chunking] payload.
//
// Checked after every item and chunk: every byte fed is accounted for, in order, as a line plus its
// delimiter, as bytes reported too long, as complete lines dropped behind a too-long line
// (LineOnlyReceiver's rule), or as still buffered; lines hold no delimiter and fit max_length;
// too-long reports meet their rule's threshold; what stays buffered holds no delimiter, is under
// the threshold, and its storage is bounded by the limit plus one chunk.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "feed.hpp"
#include "fuzz_input.hpp"
#include "torsion/protocols/line_framer.hpp"

namespace {

using namespace torsion;
using fuzz::sat_add;

constexpr auto npos = std::string_view::npos;

// n >= max + dlen, without overflowing.
bool at_least(std::size_t n, std::size_t max, std::size_t dlen) { return n >= dlen && n - dlen >= max; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const std::uint8_t flags = in.byte();
  const std::size_t max = fuzz::max_length_from(in.byte());
  const std::size_t dlen = in.byte() % 4;
  const std::string delim(in.bytes(dlen));
  fuzz::chunker chunks(in.byte());
  const line_rules rules = (flags & 1) ? line_rules::line_only_receiver : line_rules::line_receiver;
  const fuzz::feed_mode mode = fuzz::feed_mode_from(flags >> 1);
  std::string_view rest = in.rest();

  line_framer f;
  std::string fed;
  std::string accounted;  // fed, as the items reported so far explain it
  std::size_t largest_chunk = 0;
  while (!rest.empty()) {
    const std::string_view chunk = chunks.next(rest);
    largest_chunk = std::max(largest_chunk, chunk.size());
    fed += chunk;
    fuzz::feed(f.buffer(), chunk, mode);

    for (;;) {
      const auto it = f.next(delim, max, rules);
      if (it.st == line_framer::status::need_more) break;
      const std::string_view unexplained = std::string_view(fed).substr(accounted.size());
      FUZZ_CHECK(unexplained.starts_with(it.bytes));
      if (it.st == line_framer::status::line) {
        FUZZ_CHECK(!delim.empty());
        FUZZ_CHECK(it.bytes.size() <= max);
        FUZZ_CHECK(it.bytes.find(delim) == npos);
        FUZZ_CHECK(unexplained.substr(it.bytes.size()).starts_with(delim));
        accounted += it.bytes;
        accounted += delim;
      } else if (rules == line_rules::line_receiver) {
        // The whole buffer, from the over-long line on.
        FUZZ_CHECK(at_least(it.bytes.size(), max, delim.size()));
        FUZZ_CHECK(f.buffer().empty());
        accounted += it.bytes;
      } else {
        FUZZ_CHECK(it.bytes.size() > max);
        FUZZ_CHECK(delim.empty() || it.bytes.find(delim) == npos);
        // The complete lines behind an over-long terminated line are dropped, up to the last delimiter.
        const std::size_t kept = f.buffer().size();
        const std::size_t dropped_from = accounted.size() + it.bytes.size();
        FUZZ_CHECK(fed.size() >= dropped_from + kept);
        const std::string_view dropped = std::string_view(fed).substr(dropped_from, fed.size() - kept - dropped_from);
        FUZZ_CHECK(dropped.empty() || (dropped.starts_with(delim) && dropped.ends_with(delim)));
        FUZZ_CHECK(dropped.empty() || kept == 0 || f.buffer().data().find(delim) == npos);
        accounted += it.bytes;
        accounted += dropped;
      }
    }
    f.buffer().settle();

    const std::string_view held = f.buffer().data();
    FUZZ_CHECK(accounted.size() + held.size() == fed.size());
    FUZZ_CHECK(std::string_view(fed).substr(accounted.size()) == held);
    FUZZ_CHECK(delim.empty() || held.find(delim) == npos);
    if (rules == line_rules::line_receiver) {
      FUZZ_CHECK(held.empty() || !at_least(held.size(), max, delim.size()));
    } else {
      FUZZ_CHECK(held.size() <= max);
    }
    // Storage grows at most to twice what it must hold: the leftover plus one chunk.
    FUZZ_CHECK(f.buffer().capacity() / 2 <= sat_add(sat_add(max, delim.size()), largest_chunk));
  }
  return 0;
}
