// The framing parsers' throughput, next to the plainest passes over the same bytes. Each benchmark
// feeds about 1 MiB of back-to-back messages (64-byte or 4 KiB payloads) in 64 KiB chunks, as a
// socket would deliver them, through the callback class on a StringTransport (so the figure
// includes the dataReceived loop and a virtual call per message). Baselines: memchr over the same
// line stream (the least a line splitter must do) and memcpy of each chunk (what buffering every
// byte once would cost). MiB/s = bytes_per_second in the output.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <torsion/protocols/int_string_receiver.hpp>
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/protocols/netstring_receiver.hpp>
#include <torsion/testing/string_transport.hpp>
#include <vector>

#include "alloc_counter.hpp"

namespace {

using namespace torsion;

constexpr std::size_t stream_bytes = 1 << 20;
constexpr std::size_t chunk_bytes = 64 * 1024;

std::string payload(std::size_t n) {
  std::string s(n, 'a');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

// About stream_bytes of messages, each made by frame(payload).
template <class Frame>
std::string message_stream(std::size_t size, Frame frame) {
  const std::string one = frame(payload(size));
  std::string all;
  while (all.size() < stream_bytes) all += one;
  return all;
}

std::string line_stream(std::size_t size) {
  return message_stream(size, [](std::string p) { return p + "\r\n"; });
}

template <class Protocol>
void feed(benchmark::State& state, Protocol& p, const std::string& bytes, std::size_t& delivered) {
  testing::StringTransport t;
  p.makeConnection(&t);
  for (auto _ : state) {
    for (std::size_t at = 0; at < bytes.size(); at += chunk_bytes)
      p.dataReceived(std::string_view(bytes).substr(at, chunk_bytes));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.counters["messages"] = benchmark::Counter(static_cast<double>(delivered), benchmark::Counter::kIsRate);
}

struct Lines : twisted::LineReceiver {
  std::size_t n = 0;
  void lineReceived(std::string_view) override { ++n; }
};

struct Netstrings : twisted::NetstringReceiver {
  std::size_t n = 0;
  void stringReceived(std::string_view) override { ++n; }
};

struct Int32s : twisted::Int32StringReceiver {
  std::size_t n = 0;
  void stringReceived(std::string_view) override { ++n; }
};

void BM_framing_line_receiver(benchmark::State& state) {
  const std::string bytes = line_stream(static_cast<std::size_t>(state.range(0)));
  Lines p;
  feed(state, p, bytes, p.n);
}

void BM_framing_netstring_receiver(benchmark::State& state) {
  const std::string bytes = message_stream(static_cast<std::size_t>(state.range(0)),
                                           [](std::string p) { return std::to_string(p.size()) + ":" + p + ","; });
  Netstrings p;
  feed(state, p, bytes, p.n);
}

void BM_framing_int32_receiver(benchmark::State& state) {
  const std::string bytes = message_stream(static_cast<std::size_t>(state.range(0)), [](std::string p) {
    std::string prefix(4, '\0');
    encode_int_prefix(p.size(), 4, prefix.data());
    return prefix + p;
  });
  Int32s p;
  feed(state, p, bytes, p.n);
}

// Baseline: find every "\r\n" with memchr, nothing else.
void BM_framing_baseline_memchr(benchmark::State& state) {
  const std::string bytes = line_stream(static_cast<std::size_t>(state.range(0)));
  std::size_t found = 0;
  for (auto _ : state) {
    const char* p = bytes.data();
    const char* end = p + bytes.size();
    while (const void* hit = std::memchr(p, '\r', static_cast<std::size_t>(end - p))) {
      ++found;
      p = static_cast<const char*>(hit) + 2;
      if (p >= end) break;
    }
    benchmark::DoNotOptimize(found);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

// Baseline: copy each chunk once into a buffer.
void BM_framing_baseline_memcpy(benchmark::State& state) {
  const std::string bytes = line_stream(static_cast<std::size_t>(state.range(0)));
  std::vector<char> buffer(chunk_bytes);
  for (auto _ : state) {
    for (std::size_t at = 0; at < bytes.size(); at += chunk_bytes) {
      const std::size_t n = std::min(chunk_bytes, bytes.size() - at);
      std::memcpy(buffer.data(), bytes.data() + at, n);
      benchmark::ClobberMemory();
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

}  // namespace

BENCHMARK(BM_framing_baseline_memchr)->Arg(64)->Arg(4096)->MinTime(torsion_bench::min_time);
BENCHMARK(BM_framing_baseline_memcpy)->Arg(64)->Arg(4096)->MinTime(torsion_bench::min_time);
BENCHMARK(BM_framing_line_receiver)->Arg(64)->Arg(4096)->MinTime(torsion_bench::min_time);
BENCHMARK(BM_framing_netstring_receiver)->Arg(64)->Arg(4096)->MinTime(torsion_bench::min_time);
BENCHMARK(BM_framing_int32_receiver)->Arg(64)->Arg(4096)->MinTime(torsion_bench::min_time);
