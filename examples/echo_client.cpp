// A small echo load: N connections each send SIZE bytes and wait for them back, for DURATION
// seconds, verifying every byte. Prints round trips per second.
//   echo_client --host H --port P [--connections 4] [--size 64] [--duration 2]
#include <chrono>
#include <cstdio>
#include <torsion/torsion.hpp>
#include <vector>

#include "common/cli.hpp"

using namespace torsion;
using steady = std::chrono::steady_clock;

struct totals {
  std::uint64_t round_trips = 0;
  std::uint64_t mismatches = 0;
  std::uint64_t errors = 0;
};

task<void> ping_pong(std::string host, std::uint16_t port, std::size_t size, steady::time_point until, totals& t) {
  auto s = co_await connect(host, port);
  if (!s) {
    std::fprintf(stderr, "echo_client: connect %s:%u: %s\n", host.c_str(), port, s.error().message().c_str());
    ++t.errors;
    co_return;
  }
  (void)s.value().set_no_delay(true);
  std::vector<std::byte> out(size), in(size);
  for (std::uint64_t i = 0; steady::now() < until; ++i) {
    for (std::size_t k = 0; k < size; ++k) out[k] = std::byte(static_cast<unsigned char>(i * 31 + k));
    auto written = co_await s.value().write_all(out);
    auto read = written ? co_await s.value().read_exactly(in) : result<void>(written.error());
    if (!read) {
      ++t.errors;
      co_return;
    }
    if (in != out) ++t.mismatches;
    ++t.round_trips;
  }
}

task<int> run(std::string host, std::uint16_t port, int conns, std::size_t size, double seconds) {
  totals t;
  const auto start = steady::now();
  const auto until = start + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
  std::vector<task<void>> clients;
  for (int i = 0; i < conns; ++i) clients.push_back(ping_pong(host, port, size, until, t));
  co_await when_all(std::move(clients));
  const double elapsed = std::chrono::duration<double>(steady::now() - start).count();
  std::printf("echo_client: %d connections x %zu bytes for %.2f s: %llu round trips, %.0f round trips/s, "
              "%llu mismatches, %llu errors\n",
              conns, size, elapsed, static_cast<unsigned long long>(t.round_trips), t.round_trips / elapsed,
              static_cast<unsigned long long>(t.mismatches), static_cast<unsigned long long>(t.errors));
  co_return (t.mismatches || t.errors || t.round_trips == 0) ? 1 : 0;
}

int main(int argc, char** argv) {
  example::cli args(argc, argv, {"host", "port", "connections", "size", "duration"});
  auto px = proactor::create();
  if (!px) {
    std::fprintf(stderr, "echo_client: %s\n", px.error().message().c_str());
    return 1;
  }
  return px.value()->run(run(args.str("host", "127.0.0.1"), args.num<std::uint16_t>("port", 0, 1, 65535),
                             args.num<int>("connections", 4, 1, 10000), args.num<std::size_t>("size", 64, 1, 1 << 24),
                             args.num<double>("duration", 2.0, 0.01, 3600.0)));
}
