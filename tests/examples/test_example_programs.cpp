// The example programs' command-line contracts, run as real processes on loopback.
#include <catch2/catch.hpp>
#include <regex>
#include <torsion/torsion.hpp>

#include "support/process.hpp"

using namespace torsion;
using namespace std::chrono_literals;

namespace {
std::string example(const char* name) { return std::string(TORSION_EXAMPLES_DIR) + "/" + name; }

std::uint16_t port_of(const std::string& listening_line) {
  std::smatch m;
  REQUIRE(std::regex_match(listening_line, m, std::regex(R"(listening on 127\.0\.0\.1:(\d+))")));
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}
}  // namespace

TEST_CASE("echo_server prints one listening line - echoes - and exits 0 on SIGTERM or SIGINT", "[examples]") {
  const int sig = GENERATE(SIGTERM, SIGINT);
  const std::string style = GENERATE("coro", "callback");
  INFO("style " << style << " signal " << sig);
  torsion_test::child_process server({example("echo_server"), "--host", "127.0.0.1", "--port", "0", "--style", style});
  auto line = server.read_line(10s);
  REQUIRE(line);
  const std::uint16_t port = port_of(*line);

  proactor px;
  auto echoed = px.run([](std::uint16_t port) -> task<result<std::string>> {
    auto s = co_await connect("127.0.0.1", port);
    if (!s) co_return s.error();
    const std::string msg = "hello torsion";
    auto w = co_await s.value().write_all(std::as_bytes(std::span(msg)));
    if (!w) co_return w.error();
    std::string back(msg.size(), '\0');
    auto r = co_await s.value().read_exactly(std::as_writable_bytes(std::span(back)));
    if (!r) co_return r.error();
    co_return back;
  }(port));
  REQUIRE(echoed);
  CHECK(echoed.value() == "hello torsion");

  server.signal(sig);
  CHECK(server.wait(5s) == std::optional<int>(0));
  CHECK_FALSE(server.read_line(100ms));  // exactly one line was printed
}

TEST_CASE("echo_server reports a port in use and exits non-zero", "[examples]") {
  proactor px;
  auto taken = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  REQUIRE(taken);
  const auto port = std::to_string(taken.value().local_endpoint().value().port());
  torsion_test::child_process server({example("echo_server"), "--port", port});
  CHECK(server.wait(5s) == std::optional<int>(1));
}

TEST_CASE("reconnecting_client prints one line per engine event and exits 0 when it gives up", "[examples]") {
  const std::string style = GENERATE("coro", "callback");
  INFO("style " << style);
  proactor px;
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  const auto port = std::to_string(l.value().local_endpoint().value().port());
  l.value().close();  // nobody listens there now
  torsion_test::child_process client({example("reconnecting_client"), "--host", "127.0.0.1", "--port", port,
                                      "--initial-delay", "0.01", "--jitter", "0", "--max-retries", "2", "--style",
                                      style});
  std::vector<std::string> lines;
  while (auto line = client.read_line(5s)) lines.push_back(*line);
  CHECK(client.wait(5s) == std::optional<int>(0));
  const std::regex format(R"(t=\d+\.\d{3} event=(attempt|connected|failed|lost|retry|gave_up)( delay=\d+\.\d{3})?( reason=[a-z_A-Z]+)?)");
  for (auto& l : lines) CHECK(std::regex_match(l, format));
  REQUIRE(lines.size() == 9);
  CHECK_THAT(lines[1], Catch::Contains("event=failed reason=connection_refused"));
  CHECK_THAT(lines[2], Catch::Contains("event=retry delay=0.027"));  // initial 0.01 * e
  CHECK_THAT(lines[5], Catch::Contains("event=retry delay=0.074"));
  CHECK_THAT(lines[8], Catch::EndsWith("event=gave_up"));
}

TEST_CASE("hello_there says Hello there and prints the reply until the server closes", "[examples]") {
  proactor px;
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  REQUIRE(l);
  torsion_test::child_process client(
      {example("hello_there"), "--host", "127.0.0.1", "--port", std::to_string(l.value().local_endpoint().value().port())});
  auto got = px.run([](tcp_listener& l) -> task<result<std::string>> {
    auto s = co_await l.accept();
    if (!s) co_return s.error();
    std::string hello(11, '\0');
    auto r = co_await s.value().read_exactly(std::as_writable_bytes(std::span(hello)));
    if (!r) co_return r.error();
    const std::string reply = "General Kenobi";
    auto w = co_await s.value().write_all(std::as_bytes(std::span(reply)));
    if (!w) co_return w.error();
    co_return hello;  // the stream closes here: the client's connection is lost and it exits
  }(l.value()));
  REQUIRE(got);
  CHECK(got.value() == "Hello there");
  CHECK(client.read_line(5s) == std::optional<std::string>("General Kenobi"));
  CHECK(client.wait(5s) == std::optional<int>(0));
}
