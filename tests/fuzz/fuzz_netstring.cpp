// netstring_framer (fed by each of the three feeding paths) and NetstringReceiver on a
// StringTransport, both on the same fuzzer-chosen chunks, compared with a straightforward
// reference parser of the whole stream: the framing is the same whatever the chunking. Payloads
// act as commands to the receiver: "S" a re-entrant dataReceived, "Q" loseConnection (which does
// not stop a NetstringReceiver). Input: [flags: feed mode] [max_length] [chunking] payload.
//
// Checked: the strings and the broken verdict match the reference; payloads fit MAX_LENGTH; what
// is buffered is exactly the unparsed rest (less a complete "<length>:"); after an error
// brokenPeer is set, the transport is disconnecting, parseError() says why, nothing stays buffered
// and nothing more is delivered; sendString output parses back to the same strings.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "feed.hpp"
#include "fuzz_input.hpp"
#include "torsion/protocols/netstring_framer.hpp"
#include "torsion/protocols/netstring_receiver.hpp"
#include "torsion/testing/string_transport.hpp"

namespace {

using namespace torsion;
// Holds any length the reference reads (at most 21 digits) without overflowing.
__extension__ typedef unsigned __int128 u128;

struct parsed {
  std::vector<std::string> strings;
  bool broken = false;
  std::size_t consumed = 0;  // bytes of complete netstrings (when not broken)
};

// "<length>:<payload>," repeated; the length is 0 or has no leading zero, has at most
// ceil(log10(max)) + 1 digits and is at most max. An error counts as soon as the bytes so far show it.
parsed reference_parse(std::string_view s, std::size_t max) {
  std::size_t max_digits = 1;
  for (u128 p = 1; p < max; p *= 10) ++max_digits;
  parsed out;
  for (std::size_t pos = 0;;) {
    std::size_t i = pos;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    const std::string_view digits = s.substr(pos, i - pos);
    u128 length = 0;
    for (char c : digits.substr(0, max_digits)) length = length * 10 + static_cast<unsigned>(c - '0');
    if ((digits.size() > 1 && digits[0] == '0') || digits.size() > max_digits || length > max) {
      out.broken = true;
      return out;
    }
    if (i == s.size()) return out;
    // A length of SIZE_MAX is too long whatever the limit: its payload and comma cannot be counted.
    if (digits.empty() || s[i] != ':' || length == std::numeric_limits<std::size_t>::max()) {
      out.broken = true;
      return out;
    }
    if (s.size() - (i + 1) < length + 1) return out;
    const auto n = static_cast<std::size_t>(length);
    if (s[i + 1 + n] != ',') {
      out.broken = true;
      return out;
    }
    out.strings.emplace_back(s.substr(i + 1, n));
    pos = i + 2 + n;
    out.consumed = pos;
  }
}

// When not broken, the parser holds the unparsed rest of the stream, less the length of the
// netstring being received once its "<length>:" is complete.
void check_held(std::string_view stream, const parsed& ref, std::string_view held, std::size_t expected) {
  if (ref.broken) return;
  const std::string_view unparsed = stream.substr(ref.consumed);
  FUZZ_CHECK(unparsed.ends_with(held));
  const std::string_view head = unparsed.substr(0, unparsed.size() - held.size());
  FUZZ_CHECK(expected == 0 ? head.empty() : head == std::to_string(expected - 1) + ":");
}

std::string encode(std::string_view payload) {
  return std::to_string(payload.size()) + ":" + std::string(payload) + ",";
}

struct collector : twisted::NetstringReceiver {
  std::vector<std::string> strings;
  void stringReceived(std::string_view s) override { strings.emplace_back(s); }
};

class receiver final : public twisted::NetstringReceiver {
 public:
  explicit receiver(std::string& fed) : fed_(fed) {}
  std::vector<std::string> strings;

  void stringReceived(std::string_view s) override {
    FUZZ_CHECK(!brokenPeer);
    FUZZ_CHECK(s.size() <= MAX_LENGTH);
    strings.emplace_back(s);
    if (s == "S") {
      const std::string more = encode("s");
      fed_ += more;
      dataReceived(more);
    } else if (s == "Q") {
      transport->loseConnection();
    }
  }

 private:
  std::string& fed_;
};

void check_framer(std::string_view stream, std::size_t max, std::uint8_t chunking, fuzz::feed_mode mode) {
  fuzz::chunker chunks(chunking);
  netstring_framer f;
  std::vector<std::string> strings;
  std::string_view rest = stream;
  while (!rest.empty()) {
    fuzz::feed(f.buffer(), chunks.next(rest), mode);
    for (;;) {
      const auto it = f.next(max);
      if (it.st == netstring_framer::status::need_more) break;
      if (it.st == netstring_framer::status::error) {
        FUZZ_CHECK(f.broken() && f.reason() != nullptr && f.buffer().empty());
        break;
      }
      FUZZ_CHECK(it.payload.size() <= max);
      strings.emplace_back(it.payload);
    }
    f.buffer().settle();
  }
  const parsed ref = reference_parse(stream, max);
  FUZZ_CHECK(strings == ref.strings);
  FUZZ_CHECK(f.broken() == ref.broken);
  check_held(stream, ref, f.buffer().data(), f.expected_payload_size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const std::uint8_t flags = in.byte();
  const std::size_t max = fuzz::max_length_from(in.byte());
  const std::uint8_t chunking = in.byte();
  const std::string_view stream = in.rest();

  check_framer(stream, max, chunking, fuzz::feed_mode_from(flags));

  testing::StringTransport t;
  std::string fed;
  receiver r(fed);
  r.MAX_LENGTH = max;
  r.makeConnection(&t);
  fuzz::chunker chunks(chunking);
  std::string_view rest = stream;
  while (!rest.empty()) {
    const std::string_view chunk = chunks.next(rest);
    const std::size_t before = r.strings.size();
    const bool was_broken = r.brokenPeer != 0;
    fed += chunk;
    r.dataReceived(chunk);
    if (was_broken) FUZZ_CHECK(r.strings.size() == before);
    if (r.brokenPeer) {
      FUZZ_CHECK(t.disconnecting && r.parseError() != nullptr && r.buffered().empty());
    } else {
      FUZZ_CHECK(r.parseError() == nullptr);
    }
  }
  const parsed ref = reference_parse(fed, max);
  FUZZ_CHECK(r.strings == ref.strings);
  FUZZ_CHECK((r.brokenPeer != 0) == ref.broken);
  check_held(fed, ref, r.buffered(), r.expectedPayloadSize());

  // Round trip.
  testing::StringTransport out;
  twisted::NetstringReceiver sender;
  sender.makeConnection(&out);
  for (const auto& s : r.strings) sender.sendString(s);
  testing::StringTransport back_t;
  collector back;
  back.MAX_LENGTH = max;
  back.makeConnection(&back_t);
  back.dataReceived(out.value());
  FUZZ_CHECK(back.strings == r.strings);
  FUZZ_CHECK(!back.brokenPeer && back.buffered().empty());
  return 0;
}
