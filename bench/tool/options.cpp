#include "options.hpp"

#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <string_view>

namespace torsion_bench {
namespace {

template <class T>
std::optional<T> parse_number(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(v)) return std::nullopt;
  }
  return v;
}

// One flag's parser: store the value, or say why it is not acceptable.
using setter = std::function<std::string(bench_options&, std::string_view)>;

// Built with append: g++ 12 at -O3 warns falsely (-Wrestrict) on chained operator+ here.
std::string rejected(std::string_view value, const char* what) {
  std::string m = "'";
  m.append(value).append("' is not ").append(what);
  return m;
}

// A numeric flag stored into `field` (a number or an optional number) when it lies in [lo, hi].
template <class T, class Field>
setter number_in(Field bench_options::*field, T lo, T hi, const char* what) {
  return [=](bench_options& o, std::string_view s) -> std::string {
    auto v = parse_number<T>(s);
    if (!v || *v < lo || *v > hi) return rejected(s, what);
    o.*field = static_cast<Field>(*v);
    return {};
  };
}

const std::map<std::string, setter, std::less<>>& value_flags() {
  static const std::map<std::string, setter, std::less<>> flags = {
      {"host",
       [](bench_options& o, std::string_view s) -> std::string {
         if (s.empty()) return "the host is empty";
         o.host = s;
         return {};
       }},
      {"port", number_in<unsigned>(&bench_options::port, 1u, 65535u, "a port (1-65535)")},
      {"connections", number_in<std::uint32_t>(&bench_options::connections, 1u, 100000u, "a count in 1-100000")},
      {"size", number_in<std::size_t>(&bench_options::size, 1u, 16u << 20, "a size in bytes (1-16777216)")},
      {"duration", number_in<double>(&bench_options::duration_s, 0.001, 86400.0, "seconds in 0.001-86400")},
      {"warmup", number_in<double>(&bench_options::warmup_s, 0.0, 3600.0, "seconds in 0-3600")},
      {"pipeline", number_in<std::uint32_t>(&bench_options::pipeline, 1u, 4096u, "a depth in 1-4096")},
      {"rate", number_in<double>(&bench_options::rate, 1.0, 1e9, "round trips/s in 1-1e9")},
      {"server-pid", number_in<int>(&bench_options::server_pid, 1, 1 << 30, "a process id")},
      {"cpu-stat", number_in<unsigned>(&bench_options::cpu_stat, 0u, 65535u, "a CPU number")},
      {"connect-timeout", number_in<double>(&bench_options::connect_timeout_s, 0.001, 3600.0, "seconds in 0.001-3600")},
  };
  return flags;
}

}  // namespace

parsed_args parse_args(const std::vector<std::string>& argv) {
  parsed_args out;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (argv[i] == "--help" || argv[i] == "-h") {
      out.help = true;
      return out;
    }
  }
  if (argv.size() < 2) {
    out.error = "missing mode: the first argument must be 'echo'";
    return out;
  }
  if (argv[1] != "echo") {
    out.error = "unknown mode '" + argv[1] + "': the first argument must be 'echo'";
    return out;
  }
  bool have_port = false;
  for (std::size_t i = 2; i < argv.size(); ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--")) {
      out.error = "unexpected argument '" + argv[i] + "'";
      return out;
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> value;
    if (auto eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "json") {
      if (value) {
        out.error = "--json takes no value";
        return out;
      }
      out.options.json = true;
      continue;
    }
    auto it = value_flags().find(name);
    if (it == value_flags().end()) {
      out.error = "unknown flag '--" + std::string(name) + "'";
      return out;
    }
    if (!value) {
      if (i + 1 >= argv.size()) {
        out.error = "--" + std::string(name) + " needs a value";
        return out;
      }
      value = argv[++i];
    }
    if (auto why = it->second(out.options, *value); !why.empty()) {
      out.error = "--" + std::string(name) + ": " + why;
      return out;
    }
    if (name == "port") have_port = true;
  }
  if (!have_port) out.error = "--port is required";
  return out;
}

std::string usage_text() {
  return R"(usage: torsion-bench echo --port P [options]

Load an echo server with N connections on one thread (one Torsion proactor) and verify every
echoed byte. Each connection's request stream is a per-connection pseudo-random byte pattern, so a
wrong, lost, duplicated or misrouted byte is a mismatch.

  --host H              server address or name (default 127.0.0.1)
  --port P              server port (required)
  --connections N       concurrent connections (default 1)
  --size BYTES          request size; the echo is the same size (default 64)
  --duration S          measured seconds (default 5)
  --warmup S            seconds of traffic before measuring, not counted (default 1)
  --pipeline D          requests in flight per connection (default 1: ping-pong); with D > 1 a
                        writer and a reader per connection keep D outstanding
  --rate R              offered load: R round trips/s in total, spread evenly over the
                        connections on a fixed (open-loop) schedule. Latency is then measured
                        from each request's *scheduled* send time, not from when it was sent,
                        so a stalled server is not hidden by the tool waiting for it
                        (no coordinated omission)
  --server-pid PID      also report the server's CPU time per round trip (utime+stime from
                        /proc/PID/stat over the measured window)
  --cpu-stat N          also report CPU N's busy time per round trip (/proc/stat: all but
                        idle and iowait, softirq included) over the measured window
  --connect-timeout S   give up connecting after S seconds (default 5)
  --json                print one line of JSON instead of the table

Round trips completing during the warm-up are not counted; mismatches and errors are counted for
the whole run. The run ends at warm-up + duration (outstanding requests are cancelled) whatever
the server does. Exit status: 0 success, 1 runtime failure (cannot connect, a connection lost, a
mismatch, no round trip completed), 2 bad usage.
)";
}

}  // namespace torsion_bench
