// int_prefix_framer (fed by each of the three feeding paths) and Int8/Int16/Int32StringReceiver on
// a StringTransport, both on the same fuzzer-chosen chunks, compared with a reference parser of
// the whole stream. Payloads act as commands to the receiver: "P" pauseProducing, "S" a
// re-entrant dataReceived, "Q" loseConnection (which does not stop an IntNStringReceiver), and
// "W<rest>" setRecvd(rest). Input: [flags: bits 0-1 prefix 1/2/4/4, bits 2-3 feed mode, bit 4
// resume after every chunk when paused (else at the end)] [max_length] [chunking] payload.
//
// Checked: the strings and the length-limit verdict match the reference (each string has the
// length its prefix announced and fits MAX_LENGTH); recvd() is exactly the unparsed rest, inside
// callbacks too; no string arrives while paused or after lengthLimitExceeded, which reports the
// announced length and leaves the transport disconnecting; sendString output parses back to the
// same strings.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "feed.hpp"
#include "fuzz_input.hpp"
#include "torsion/protocols/int_prefix_framer.hpp"
#include "torsion/protocols/int_string_receiver.hpp"
#include "torsion/testing/string_transport.hpp"

namespace {

using namespace torsion;

struct parsed {
  std::vector<std::string> strings;
  bool exceeded = false;
  std::uint64_t exceeded_length = 0;
  std::size_t consumed = 0;  // bytes of complete strings
};

// The big-endian length in the first `prefix` bytes of s.
std::uint64_t announced(std::string_view s, unsigned prefix) {
  std::uint64_t length = 0;
  for (unsigned i = 0; i < prefix; ++i) length = length * 256 + static_cast<unsigned char>(s[i]);
  return length;
}

parsed reference_parse(std::string_view s, unsigned prefix, std::size_t max) {
  parsed out;
  while (s.size() - out.consumed >= prefix) {
    const std::uint64_t length = announced(s.substr(out.consumed), prefix);
    if (length > max) {
      out.exceeded = true;
      out.exceeded_length = length;
      break;
    }
    if (s.size() - out.consumed - prefix < length) break;
    out.strings.emplace_back(s.substr(out.consumed + prefix, static_cast<std::size_t>(length)));
    out.consumed += prefix + static_cast<std::size_t>(length);
  }
  return out;
}

std::string encode(std::string_view payload, unsigned prefix) {
  std::string out(prefix, '\0');
  for (std::size_t i = prefix, n = payload.size(); i-- > 0; n >>= 8) out[i] = static_cast<char>(n & 0xff);
  return out + std::string(payload);
}

struct collector : twisted::IntNStringReceiver {
  explicit collector(unsigned prefix) : IntNStringReceiver(prefix) {}
  std::vector<std::string> strings;
  void stringReceived(std::string_view s) override { strings.emplace_back(s); }
};

class receiver final : public twisted::IntNStringReceiver {
 public:
  receiver(unsigned prefix, std::string& fed) : IntNStringReceiver(prefix), fed_(fed) {}
  std::vector<std::string> strings;
  std::size_t consumed = 0;
  bool exceeded = false;
  std::uint64_t exceeded_length = 0;

  void stringReceived(std::string_view s) override {
    FUZZ_CHECK(!paused && !exceeded);
    FUZZ_CHECK(s.size() <= MAX_LENGTH);
    strings.emplace_back(s);
    consumed += prefixLength + s.size();
    FUZZ_CHECK(recvd() == std::string_view(fed_).substr(consumed));
    if (s == "P") {
      pauseProducing();
    } else if (s == "S") {
      const std::string more = encode("s", prefixLength);
      fed_ += more;
      dataReceived(more);
    } else if (s == "Q") {
      transport->loseConnection();
    } else if (s.starts_with("W")) {
      // The stream goes on with `rest` instead of what followed this string.
      const std::string rest(s.substr(1));
      fed_.resize(consumed);
      fed_ += rest;
      setRecvd(rest);
    }
  }

  void lengthLimitExceeded(std::uint64_t length) override {
    FUZZ_CHECK(!exceeded && length > MAX_LENGTH);
    FUZZ_CHECK(recvd() == std::string_view(fed_).substr(consumed));
    exceeded = true;
    exceeded_length = length;
    IntNStringReceiver::lengthLimitExceeded(length);
  }

 private:
  std::string& fed_;
};

void check_framer(std::string_view stream, unsigned prefix, std::size_t max, std::uint8_t chunking,
                  fuzz::feed_mode mode) {
  fuzz::chunker chunks(chunking);
  int_prefix_framer f;
  std::vector<std::string> strings;
  std::uint64_t exceeded_length = 0;
  std::string_view rest = stream;
  while (!rest.empty() && !f.broken()) {
    fuzz::feed(f.buffer(), chunks.next(rest), mode);
    for (;;) {
      const auto it = f.next(prefix, max);
      if (it.st == int_prefix_framer::status::need_more) break;
      if (it.st == int_prefix_framer::status::length_exceeded) {
        FUZZ_CHECK(f.broken() && it.length > max);
        exceeded_length = it.length;
        break;
      }
      FUZZ_CHECK(it.payload.size() == it.length && it.length <= max);
      strings.emplace_back(it.payload);
    }
    f.buffer().settle();
  }
  const parsed ref = reference_parse(stream.substr(0, stream.size() - rest.size()), prefix, max);
  FUZZ_CHECK(strings == ref.strings);
  FUZZ_CHECK(f.broken() == ref.exceeded && exceeded_length == ref.exceeded_length);
  // After length_exceeded the offending message stays buffered (Twisted's recvd shows it).
  FUZZ_CHECK(f.buffer().data() == stream.substr(ref.consumed, stream.size() - rest.size() - ref.consumed));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const std::uint8_t flags = in.byte();
  const unsigned prefix = (flags & 3) == 0 ? 1 : (flags & 3) == 1 ? 2 : 4;
  const std::size_t max = fuzz::max_length_from(in.byte());
  const std::uint8_t chunking = in.byte();
  const std::string_view stream = in.rest();

  check_framer(stream, prefix, max, chunking, fuzz::feed_mode_from(flags >> 2));

  // Lenient: pausing after loseConnection is allowed (a "Q" string can come before a "P" string).
  testing::StringTransport t({"TCP", "10.0.0.1", 1}, {"TCP", "10.0.0.2", 2}, true);
  std::string fed;
  receiver r(prefix, fed);
  r.MAX_LENGTH = max;
  r.makeConnection(&t);
  fuzz::chunker chunks(chunking);
  std::string_view rest = stream;
  const auto check_state = [&] {
    if (r.exceeded) {
      FUZZ_CHECK(t.disconnecting && r.recvd() == std::string_view(fed).substr(r.consumed));
      return;
    }
    FUZZ_CHECK(r.recvd() == std::string_view(fed).substr(r.consumed));
    if (r.paused) return;
    // Nothing deliverable or over the limit is left behind: no complete prefix, or one announcing
    // at most MAX_LENGTH bytes, more than are here.
    const std::string_view held = r.recvd();
    if (held.size() >= prefix) {
      const std::uint64_t length = announced(held, prefix);
      FUZZ_CHECK(length <= max && held.size() - prefix < length);
    }
  };
  while (!rest.empty()) {
    const std::string_view chunk = chunks.next(rest);
    // Once the limit is exceeded the receiver drops what it is given.
    if (!r.exceeded) fed += chunk;
    r.dataReceived(chunk);
    check_state();
    if (r.paused && (flags & 16)) {
      r.resumeProducing();
      check_state();
    }
  }
  while (r.paused) {  // a "P" delivered while resuming pauses again
    r.resumeProducing();
    check_state();
  }
  const parsed ref = reference_parse(fed, prefix, max);
  FUZZ_CHECK(r.strings == ref.strings);
  FUZZ_CHECK(r.exceeded == ref.exceeded && r.exceeded_length == ref.exceeded_length);

  // Round trip.
  testing::StringTransport out;
  collector sender(prefix);
  sender.makeConnection(&out);
  for (const auto& s : r.strings) FUZZ_CHECK(sender.sendString(s).has_value());
  testing::StringTransport back_t;
  collector back(prefix);
  back.MAX_LENGTH = max;
  back.makeConnection(&back_t);
  back.dataReceived(out.value());
  FUZZ_CHECK(back.strings == r.strings);
  FUZZ_CHECK(back.recvd().empty() && !back_t.disconnecting);
  return 0;
}
