#pragma once
// torsion-bench's command line: `torsion-bench echo --port P [flags]`. Parsing never exits: it
// reports what was wrong so main() can print it and exit 2 (bad usage).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace torsion_bench {

struct bench_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // required
  std::uint32_t connections = 1;
  std::size_t size = 64;
  double duration_s = 5.0;
  double warmup_s = 1.0;
  std::uint32_t pipeline = 1;
  double rate = 0.0;  // offered round trips/s over all connections; 0: as fast as possible
  std::optional<int> server_pid;
  std::optional<unsigned> cpu_stat;
  double connect_timeout_s = 5.0;
  bool json = false;
};

struct parsed_args {
  bench_options options;
  bool help = false;
  std::string error;  // non-empty: bad usage, naming the flag and the cause
};

// argv[0] is the program name; argv[1] must be the mode ("echo").
parsed_args parse_args(const std::vector<std::string>& argv);

std::string usage_text();

}  // namespace torsion_bench
