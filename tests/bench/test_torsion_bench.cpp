// torsion-bench run as a real process against the example echo server and against test-owned
// servers that misbehave; plus its histogram, payload and option parsing checked directly.
#include <catch2/catch.hpp>
#include <map>
#include <regex>
#include <torsion/torsion.hpp>

#include "histogram.hpp"
#include "options.hpp"
#include "payload.hpp"
#include "support/loopback.hpp"
#include "support/process.hpp"

using namespace torsion;
using namespace std::chrono_literals;

namespace {

const std::string bench_program = TORSION_BENCH_PROGRAM;

// torsion-bench with stderr joined to stdout, so tests can read its messages too.
std::vector<std::string> bench_command(std::vector<std::string> args) {
  std::vector<std::string> argv{"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", bench_program};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

struct finished_run {
  std::optional<int> status;
  std::vector<std::string> lines;
  std::chrono::steady_clock::duration took{};
  std::string all() const {
    std::string s;
    for (auto& l : lines) s += l + "\n";
    return s;
  }
};

finished_run run_bench(std::vector<std::string> args, std::chrono::seconds limit = 30s) {
  const auto start = std::chrono::steady_clock::now();
  torsion_test::child_process p(bench_command(std::move(args)));
  finished_run r;
  while (auto line = p.read_line(limit)) r.lines.push_back(*line);
  r.status = p.wait(limit);
  r.took = std::chrono::steady_clock::now() - start;
  return r;
}

// The example echo server, listening on an ephemeral port.
struct echo_server {
  torsion_test::child_process proc{
      {std::string(TORSION_EXAMPLES_DIR) + "/echo_server", "--host", "127.0.0.1", "--port", "0", "--style", "coro"}};
  std::string port;
  echo_server() {
    auto line = proc.read_line(10s);
    REQUIRE(line);
    std::smatch m;
    REQUIRE(std::regex_match(*line, m, std::regex(R"(listening on 127\.0\.0\.1:(\d+))")));
    port = m[1];
  }
};

// The one JSON line: its keys in order and their raw values.
struct json_line {
  std::vector<std::string> keys;
  std::map<std::string, std::string> values;
  double number(const std::string& key) const { return std::stod(values.at(key)); }
};

std::optional<json_line> find_json(const finished_run& r) {
  for (const auto& l : r.lines) {
    if (l.empty() || l.front() != '{' || l.back() != '}') continue;
    json_line j;
    const std::regex field(R"re("([a-z0-9_]+)":(null|-?[0-9.]+)[,}])re");
    for (auto it = std::sregex_iterator(l.begin(), l.end(), field); it != std::sregex_iterator(); ++it) {
      j.keys.push_back((*it)[1]);
      j.values[(*it)[1]] = (*it)[2];
    }
    return j;
  }
  return std::nullopt;
}

const std::vector<std::string> json_keys = {"connections",
                                            "size",
                                            "pipeline",
                                            "rate",
                                            "duration_s",
                                            "round_trips",
                                            "rt_per_s",
                                            "mib_per_s",
                                            "p50_us",
                                            "p90_us",
                                            "p99_us",
                                            "p999_us",
                                            "errors",
                                            "mismatches",
                                            "server_cpu_us_per_rt",
                                            "cpu_stat_us_per_rt"};

void check_clean_run(const finished_run& r, const json_line& j) {
  INFO(r.all());
  CHECK(r.status == std::optional<int>(0));
  CHECK(j.keys == json_keys);
  CHECK(j.number("round_trips") > 0);
  CHECK(j.number("mismatches") == 0);
  CHECK(j.number("errors") == 0);
  CHECK(j.number("p50_us") > 0);
  CHECK(j.number("p50_us") <= j.number("p99_us"));
  CHECK(j.number("p99_us") <= j.number("p999_us"));
}

std::string port_of(const tcp_listener& l) { return std::to_string(l.local_endpoint().value().port()); }

// How a test-owned server misbehaves.
enum class fault {
  flip,         // echo with the first byte of every chunk flipped
  close_early,  // echo faithfully, but close after 100 requests of 64 bytes
  swallow,      // read everything, never answer
};

// A test-owned server for one connection, misbehaving as told.
task<result<void>> faulty_echo(tcp_listener& l, fault f) {
  auto s = co_await l.accept();
  if (!s) co_return s.error();
  std::array<std::byte, 4096> buf;
  std::size_t total = 0;
  for (;;) {
    // The client ends the run by closing, perhaps with an echo unread (a reset): either way, done.
    auto n = co_await s.value().read_some(buf);
    if (!n || n.value() == 0) co_return success();
    if (f == fault::swallow) continue;
    if (f == fault::flip) buf[0] ^= std::byte{0x20};
    auto w = co_await s.value().write_all(std::span(buf.data(), n.value()));
    if (!w) co_return success();
    total += n.value();
    if (f == fault::close_early && total >= 64 * 100) co_return success();  // closes the connection
  }
}

// torsion-bench with one connection against faulty_echo, both run to the end.
finished_run run_bench_against_faulty_echo(fault f, const std::string& duration) {
  proactor px;
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  REQUIRE(l);
  const auto start = std::chrono::steady_clock::now();
  torsion_test::child_process bench(
      bench_command({"echo", "--port", port_of(l.value()), "--duration", duration, "--warmup", "0", "--json"}));
  auto served = px.run(with_timeout(faulty_echo(l.value(), f), 20s));
  CHECK(served);
  finished_run r;
  while (auto line = bench.read_line(20s)) r.lines.push_back(*line);
  r.status = bench.wait(20s);
  r.took = std::chrono::steady_clock::now() - start;
  return r;
}

}  // namespace

TEST_CASE("torsion-bench ping-pong against the echo server reports round trips and no mismatches", "[bench]") {
  echo_server server;
  auto r = run_bench({"echo", "--port", server.port, "--connections", "3", "--size", "64", "--duration", "0.5",
                      "--warmup", "0.1", "--json"});
  auto j = find_json(r);
  REQUIRE(j);
  check_clean_run(r, *j);
  CHECK(j->number("connections") == 3);
  CHECK(j->number("pipeline") == 1);
  CHECK(j->number("rate") == 0);
  CHECK(j->values.at("server_cpu_us_per_rt") == "null");
  CHECK(j->values.at("cpu_stat_us_per_rt") == "null");
  CHECK(r.lines.size() == 1);  // --json prints exactly one line
}

TEST_CASE("torsion-bench pipelined runs verify every byte at small and large sizes", "[bench]") {
  const std::string size = GENERATE("100", "70000");
  INFO("size " << size);
  echo_server server;
  auto r = run_bench({"echo", "--port", server.port, "--connections", "3", "--size", size, "--pipeline", "8",
                      "--duration", "0.5", "--warmup", "0.1", "--json"});
  auto j = find_json(r);
  REQUIRE(j);
  check_clean_run(r, *j);
  CHECK(j->number("pipeline") == 8);
}

TEST_CASE("torsion-bench at a fixed rate sends no more than the schedule and reports CPU figures", "[bench]") {
  echo_server server;
  const std::string pipeline = GENERATE("1", "4");
  INFO("pipeline " << pipeline);
  // 2000 round trips/s for 0.5 s, no warm-up: 1000 requests are scheduled in the run (the
  // connections' schedules are staggered, so at most one more each). However late the tool falls
  // behind, it never sends ahead of the schedule. (With a warm-up, requests scheduled during it
  // may still be answered inside the window, so the count there has no such tight bound.)
  auto r = run_bench({"echo", "--port", server.port, "--connections", "4", "--rate", "2000", "--pipeline", pipeline,
                      "--duration", "0.5", "--warmup", "0", "--cpu-stat", "0", "--server-pid",
                      std::to_string(::getpid()), "--json"});
  auto j = find_json(r);
  REQUIRE(j);
  check_clean_run(r, *j);
  CHECK(j->number("rate") == 2000);
  CHECK(j->number("round_trips") <= 1000 + 4);
  CHECK(j->values.at("server_cpu_us_per_rt") != "null");
  CHECK(j->values.at("cpu_stat_us_per_rt") != "null");
}

TEST_CASE("torsion-bench counts the bytes a corrupting server flips as mismatches and exits 1", "[bench]") {
  auto r = run_bench_against_faulty_echo(fault::flip, "0.3");
  INFO(r.all());
  CHECK(r.status == std::optional<int>(1));
  auto j = find_json(r);
  REQUIRE(j);
  CHECK(j->number("mismatches") > 0);
  CHECK(j->number("mismatches") >= j->number("round_trips"));  // every echo was corrupted
  CHECK_THAT(r.all(), Catch::Contains("came back with wrong bytes"));
}

TEST_CASE("torsion-bench reports a server that closes mid-run as an error and stops at once", "[bench]") {
  auto r = run_bench_against_faulty_echo(fault::close_early, "30");
  INFO(r.all());
  CHECK(r.status == std::optional<int>(1));
  // With its only connection gone the run ends instead of waiting out its 30 s.
  CHECK(r.took < 15s);
  auto j = find_json(r);
  REQUIRE(j);
  CHECK(j->number("errors") == 1);
  CHECK(j->number("mismatches") == 0);
  // EOF or a reset, depending on whether the next request met the closed socket first.
  CHECK_THAT(r.all(), Catch::Contains("1 connection lost; the first: connection 0: "));
}

TEST_CASE("torsion-bench ends on time when the server never answers", "[bench]") {
  auto r = run_bench_against_faulty_echo(fault::swallow, "0.5");
  INFO(r.all());
  // The outstanding read is cancelled at the end of the run; nothing was measured, so exit 1.
  CHECK(r.status == std::optional<int>(1));
  CHECK(r.took < 10s);
  auto j = find_json(r);
  REQUIRE(j);
  CHECK(j->number("round_trips") == 0);
  CHECK(j->number("errors") == 0);
  CHECK_THAT(r.all(), Catch::Contains("no round trip completed in the measured window"));
}

TEST_CASE("torsion-bench names a refused connection and exits 1 at once", "[bench]") {
  proactor px;
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  REQUIRE(l);
  const std::string port = port_of(l.value());
  l.value().close();  // nobody listens there now
  auto r = run_bench({"echo", "--port", port, "--connections", "5", "--duration", "10"});
  INFO(r.all());
  CHECK(r.status == std::optional<int>(1));
  CHECK_THAT(r.all(), Catch::Contains("cannot connect to 127.0.0.1 port " + port + ": connection refused"));
  CHECK(r.took < 5s);
}

TEST_CASE("torsion-bench gives up connecting after --connect-timeout", "[bench]") {
  // A listener that never accepts, its backlog full: further SYNs go unanswered, as with an
  // unreachable host.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::listen(fd, 0) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  auto queued = torsion_test::fill_backlog(reinterpret_cast<sockaddr*>(&sa), len);
  auto r =
      run_bench({"echo", "--port", std::to_string(ntohs(sa.sin_port)), "--connect-timeout", "0.3", "--duration", "10"});
  for (int q : queued) ::close(q);
  ::close(fd);
  INFO(r.all());
  CHECK(r.status == std::optional<int>(1));
  CHECK_THAT(r.all(), Catch::Contains("no answer within 0.3 s"));
  CHECK(r.took < 5s);
}

TEST_CASE("torsion-bench rejects bad usage with a message naming the flag and exit status 2", "[bench]") {
  using args = std::vector<std::string>;
  const auto [argv, says] = GENERATE(table<args, std::string>({
      {args{}, "missing mode"},
      {args{"ping", "--port", "1"}, "unknown mode 'ping'"},
      {args{"echo"}, "--port is required"},
      {args{"echo", "--port", "1", "--size", "0"}, "--size: '0'"},
      {args{"echo", "--port", "1", "--connections", "0"}, "--connections: '0'"},
      {args{"echo", "--port", "70000"}, "--port: '70000'"},
      {args{"echo", "--port", "1", "--duration", "-1"}, "--duration: '-1'"},
      {args{"echo", "--port", "1", "--rate", "fast"}, "--rate: 'fast'"},
      {args{"echo", "--port", "1", "--pipeline"}, "--pipeline needs a value"},
      {args{"echo", "--port", "1", "--frobnicate", "2"}, "unknown flag '--frobnicate'"},
      {args{"echo", "--port", "1", "--cpu-stat", "4000"}, "--cpu-stat 4000: no such CPU"},
  }));
  INFO("says " << says);
  auto r = run_bench(argv, 10s);
  INFO(r.all());
  CHECK(r.status == std::optional<int>(2));
  CHECK_THAT(r.all(), Catch::Contains("torsion-bench: " + says));
}

TEST_CASE("torsion-bench --help prints the usage and exits 0", "[bench]") {
  auto r = run_bench({"--help"}, 10s);
  CHECK(r.status == std::optional<int>(0));
  CHECK_THAT(r.all(), Catch::Contains("usage: torsion-bench echo") && Catch::Contains("coordinated omission"));
}

TEST_CASE("The option parser takes both flag forms and keeps the defaults", "[bench]") {
  auto p = torsion_bench::parse_args({"torsion-bench", "echo", "--port=9", "--size", "4096", "--json"});
  REQUIRE(p.error.empty());
  CHECK(p.options.port == 9);
  CHECK(p.options.size == 4096);
  CHECK(p.options.json);
  CHECK(p.options.host == "127.0.0.1");
  CHECK(p.options.connections == 1);
  CHECK(p.options.pipeline == 1);
  CHECK(p.options.rate == 0);
  CHECK_FALSE(p.options.server_pid);
}

TEST_CASE("The latency histogram reports quantiles within 1 percent from 1 us to 10 s", "[bench]") {
  torsion_bench::latency_histogram h;
  CHECK(h.quantile(0.5) == 0);
  // Every bucket's bounds are consistent with the index computation.
  for (std::size_t i = 0; i + 1 < torsion_bench::latency_histogram::bucket_count; ++i) {
    const auto low = torsion_bench::latency_histogram::bucket_low(i);
    REQUIRE(torsion_bench::latency_histogram::index_of(low) == i);
    REQUIRE(low + torsion_bench::latency_histogram::bucket_width(i) ==
            torsion_bench::latency_histogram::bucket_low(i + 1));
  }
  for (std::uint64_t v = 1000; v <= 10'000'000'000; v = v * 3 + 7) {
    h.clear();
    h.record(v);
    const double got = static_cast<double>(h.quantile(0.99));
    INFO("value " << v << " reported " << got);
    CHECK(std::abs(got - static_cast<double>(v)) <= 0.01 * static_cast<double>(v));
  }
  // 1..1000 us, one each: p50 is 500 us, p99.9 is 999 us.
  h.clear();
  for (std::uint64_t us = 1; us <= 1000; ++us) h.record(us * 1000);
  CHECK(h.count() == 1000);
  CHECK(std::abs(static_cast<double>(h.quantile(0.5)) - 500'000.0) <= 5000.0);
  CHECK(std::abs(static_cast<double>(h.quantile(0.999)) - 999'000.0) <= 9990.0);
  CHECK(h.quantile(1.0) >= h.quantile(0.999));
}

TEST_CASE("The payload pattern differs between consecutive requests and between connections", "[bench]") {
  torsion_bench::payload_pattern p(4096);
  const std::size_t size = 64;
  const std::size_t a = torsion_bench::payload_pattern::start_of(0);
  const std::size_t b = torsion_bench::payload_pattern::start_of(1);
  auto first = p.window(a, size);
  auto next = p.window(torsion_bench::payload_pattern::advance(a, size), size);
  CHECK_FALSE(std::equal(first.begin(), first.end(), next.begin()));
  CHECK_FALSE(p.matches(b, first));
  CHECK(p.matches(a, first));
  // The window past the period continues the pattern from its start.
  auto wrapped = p.window(torsion_bench::payload_pattern::period - 10, 20);
  auto head = p.window(0, 10);
  CHECK(std::equal(head.begin(), head.end(), wrapped.begin() + 10));
}
