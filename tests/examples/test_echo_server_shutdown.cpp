// Graceful shutdown of the echo_server example under heavy traffic. The contract (see the header of
// examples/echo_server.cpp): on SIGTERM the server stops accepting at once (a new connect is
// refused), stops reading, echoes every byte it has already read, sends its FIN, and exits 0 once
// every connection is closed. So each client receives an exact prefix of what it sent, ending in a
// clean end of stream (never a reset), and the bytes all clients received add up to exactly the
// bytes the server reports it read and echoed.
#include <catch2/catch.hpp>
#include <regex>
#include <torsion/torsion.hpp>
#include <vector>

#include "support/example_server.hpp"
#include "support/process.hpp"

using namespace torsion;
using namespace std::chrono_literals;

namespace {

std::byte stream_byte(std::size_t conn, std::size_t i) {
  return std::byte(static_cast<unsigned char>(i * 13 + (i >> 10) + conn * 71));
}

struct conn_state {
  std::size_t id = 0;
  std::size_t sent = 0, received = 0;
  bool in_order = true;
  bool reader_done = false;
  std::error_code read_end;  // empty: a clean end of stream
};

// Writes the connection's byte stream until the reader has seen the server's FIN, then sends ours.
task<void> writer(tcp_stream& s, conn_state& c) {
  std::vector<std::byte> chunk(16384);
  while (!c.reader_done) {
    for (std::size_t k = 0; k < chunk.size(); ++k) chunk[k] = stream_byte(c.id, c.sent + k);
    auto w = co_await s.write_all(chunk);
    if (!w) co_return;
    c.sent += chunk.size();
  }
  (void)s.shutdown_write();
}

task<void> reader(tcp_stream& s, conn_state& c) {
  std::vector<std::byte> buf(65536);
  for (;;) {
    auto n = co_await s.read_some(buf);
    if (!n || n.value() == 0) {
      if (!n) c.read_end = n.error();
      break;
    }
    for (std::size_t k = 0; k < n.value() && c.in_order; ++k) c.in_order = buf[k] == stream_byte(c.id, c.received + k);
    c.received += n.value();
  }
  c.reader_done = true;
}

task<void> client(endpoint where, conn_state& c) {
  auto s = co_await connect(where);
  REQUIRE(s);
  task_group g;
  g.spawn(writer(s.value(), c));
  g.spawn(reader(s.value(), c));
  co_await g.join();
}

struct summary {
  unsigned long long connections = 0, read = 0, echoed = 0, discarded = 0;
};

std::optional<summary> parse_summary(const std::string& line) {
  std::smatch m;
  static const std::regex re(
      R"(echo_server: shut down: (\d+) connections, (\d+) bytes read, (\d+) bytes echoed, (\d+) bytes discarded)");
  if (!std::regex_match(line, m, re)) return std::nullopt;
  return summary{std::stoull(m[1]), std::stoull(m[2]), std::stoull(m[3]), std::stoull(m[4])};
}

}  // namespace

TEST_CASE("echo_server SIGTERM under heavy traffic - refuses new connections - echoes all it read - exits 0",
          "[examples][faults]") {
  const std::string style = GENERATE("coro", "callback");
  INFO("style " << style);
  torsion_test::child_process server({torsion_test::example_path("echo_server"), "--port", "0", "--style", style},
                                     {.merge_stderr = true});
  const auto listening = torsion_test::listening_endpoint(server);
  REQUIRE(listening);
  const endpoint where = *listening;

  constexpr std::size_t clients = 8;
  std::vector<conn_state> conns(clients);
  for (std::size_t i = 0; i < clients; ++i) conns[i].id = i;
  bool refused = false;
  std::chrono::steady_clock::duration signal_to_refusal{};
  std::chrono::steady_clock::time_point signalled{};
  proactor px;
  px.run([](endpoint where, std::vector<conn_state>& conns, torsion_test::child_process& server, bool& refused,
            std::chrono::steady_clock::duration& to_refusal,
            std::chrono::steady_clock::time_point& signalled) -> task<void> {
    task_group g;
    for (auto& c : conns) g.spawn(client(where, c));
    // Heavy traffic first: every connection has had at least 1 MiB echoed.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    auto busy = [&] {
      for (auto& c : conns)
        if (c.received < (1u << 20)) return false;
      return true;
    };
    while (!busy() && std::chrono::steady_clock::now() < deadline) (void)co_await sleep_for(1ms);
    REQUIRE(busy());
    server.signal(SIGTERM);
    signalled = std::chrono::steady_clock::now();
    // From now on the listener closes: a new connection attempt is refused (until then one may
    // still be accepted and wound down like the others).
    while (std::chrono::steady_clock::now() - signalled < 5s) {
      auto probe = co_await connect(where);
      if (!probe && probe.error() == errc::connection_refused) {
        refused = true;
        to_refusal = std::chrono::steady_clock::now() - signalled;
        break;
      }
      (void)co_await sleep_for(2ms);
    }
    co_await g.join();
  }(where, conns, server, refused, signal_to_refusal, signalled));

  const auto exit_status = server.wait(5s);
  const auto signal_to_exit = std::chrono::steady_clock::now() - signalled;
  CHECK(exit_status == std::optional<int>(0));
  CHECK(signal_to_exit < 5s);
  CHECK(refused);
  std::optional<summary> sum;
  while (auto l = server.read_line(1s))
    if ((sum = parse_summary(*l))) break;
  REQUIRE(sum);
  unsigned long long received = 0;
  for (auto& c : conns) {
    INFO("connection " << c.id << " sent " << c.sent << " received " << c.received);
    CHECK(c.in_order);        // an exact prefix of what it sent
    CHECK_FALSE(c.read_end);  // ended by the server's FIN, not by a reset
    CHECK(c.received <= c.sent);
    received += c.received;
  }
  // Everything the server read was echoed, and everything it echoed arrived.
  CHECK(sum->read == sum->echoed);
  CHECK(received == sum->echoed);
  CHECK(sum->connections >= clients);
  WARN(style << ": " << received << " bytes echoed over " << clients << " connections, " << sum->discarded
             << " bytes discarded after SIGTERM, refused new connections "
             << std::chrono::duration_cast<std::chrono::milliseconds>(signal_to_refusal).count()
             << " ms after it, exited " << std::chrono::duration_cast<std::chrono::milliseconds>(signal_to_exit).count()
             << " ms after it");
}
