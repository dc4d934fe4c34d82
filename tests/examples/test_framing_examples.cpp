// chat_server, int32_server and int32_client as processes: their protocols, the echo_server
// command-line contract, and the coroutine framing surface (line_reader, int_string_reader) as
// their clients.
#include <catch2/catch.hpp>
#include <regex>
#include <torsion/protocols/framed_stream.hpp>
#include <torsion/torsion.hpp>

#include "support/process.hpp"

using namespace torsion;
using namespace std::chrono_literals;

namespace {
std::string example(const char* name) { return std::string(TORSION_EXAMPLES_DIR) + "/" + name; }

std::uint16_t listening_port(torsion_test::child_process& server) {
  auto line = server.read_line(10s);
  REQUIRE(line);
  std::smatch m;
  REQUIRE(std::regex_match(*line, m, std::regex(R"(listening on 127\.0\.0\.1:(\d+))")));
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

// An error as the tests print it: "<message>" (built by appending: g++ 12 warns falsely on "<" + s).
std::string bracketed(std::error_code ec) {
  std::string s(1, '<');
  s.append(ec.message());
  s.push_back('>');
  return s;
}

// One chat client: a stream and a line reader over it.
struct chat_client {
  tcp_stream stream;
  line_reader lines{stream};
  explicit chat_client(tcp_stream s) : stream(std::move(s)) {}
  task<std::string> next() {
    auto l = co_await lines.next();
    co_return l ? std::string(l.value()) : bracketed(l.error());
  }
  task<void> say(std::string line) { (void)co_await write_line(stream, line); }
};

task<std::vector<std::string>> chat_session(std::uint16_t port) {
  std::vector<std::string> seen;
  auto sa = co_await connect("127.0.0.1", port);
  auto a = std::make_unique<chat_client>(std::move(sa).value());
  seen.push_back(co_await a->next());
  auto sb = co_await connect("127.0.0.1", port);
  auto b = std::make_unique<chat_client>(std::move(sb).value());
  seen.push_back(co_await b->next());
  co_await a->say("/nick ann");
  seen.push_back(co_await a->next());
  seen.push_back(co_await b->next());
  co_await b->say("hi ann");
  seen.push_back(co_await a->next());
  co_await b->say("/nick ann");
  seen.push_back(co_await b->next());
  co_await b->say(std::string(16385, 'z'));  // one byte over MAX_LENGTH: the server drops b
  seen.push_back(co_await b->next());
  co_await a->say("anyone?");  // nobody is left to hear it; a still works
  co_await a->say("/nick bo");
  seen.push_back(co_await a->next());
  co_return seen;
}

task<std::vector<std::string>> int32_session(std::uint16_t port) {
  std::vector<std::string> replies;
  auto s = co_await connect("127.0.0.1", port);
  if (!s) co_return replies;
  int_string_reader reader(s.value());
  for (std::string request : {std::string("abc"), std::string(), std::string(99999, 'q') + "!"}) {
    auto sent = co_await write_int_string(s.value(), request);
    if (!sent) co_return replies;
    auto reply = co_await reader.next();
    replies.push_back(reply ? std::string(reply.value()) : bracketed(reply.error()));
  }
  co_return replies;
}
}  // namespace

TEST_CASE("chat_server relays lines - renames - drops over-long lines - and exits 0 on SIGTERM", "[examples]") {
  torsion_test::child_process server({example("chat_server"), "--host", "127.0.0.1", "--port", "0"});
  const std::uint16_t port = listening_port(server);
  proactor px;
  const auto seen = px.run(chat_session(port));
  const std::vector<std::string> expected{
      "* you are guest1",   "* you are guest2", "* you are ann",
      "* guest1 is now known as ann", "guest2: hi ann", "! name taken",
      bracketed(errc::connection_done), "* you are bo"};
  CHECK(seen == expected);
  server.signal(SIGTERM);
  CHECK(server.wait(5s) == std::optional<int>(0));
  CHECK_FALSE(server.read_line(100ms));
}

TEST_CASE("int32_server answers each request reversed in both styles", "[examples]") {
  const std::string style = GENERATE("coro", "callback");
  INFO("style " << style);
  torsion_test::child_process server({example("int32_server"), "--host", "127.0.0.1", "--port", "0", "--style", style});
  const std::uint16_t port = listening_port(server);
  proactor px;
  const auto replies = px.run(int32_session(port));
  // The last request is one byte over MAX_LENGTH: the server closes instead of answering, with a FIN,
  // or with an RST when the kernel still holds request bytes it never read.
  REQUIRE(replies.size() == 3);
  CHECK(replies[0] == "cba");
  CHECK(replies[1].empty());
  CHECK((replies[2] == bracketed(errc::connection_done) || replies[2] == bracketed(errno_code(ECONNRESET))));

  torsion_test::child_process client({example("int32_client"), "--port", std::to_string(port), "--rounds", "2"});
  CHECK(client.read_line(20s) == std::optional<std::string>("OK 14 requests"));
  CHECK(client.wait(5s) == std::optional<int>(0));
  server.signal(SIGINT);
  CHECK(server.wait(5s) == std::optional<int>(0));
}

TEST_CASE("int32_client reports a refused connection and bad flags", "[examples]") {
  proactor px;
  std::uint16_t closed = 0;
  {
    auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
    REQUIRE(l);
    closed = l.value().local_endpoint().value().port();
  }
  torsion_test::child_process refused({example("int32_client"), "--port", std::to_string(closed)});
  CHECK(refused.wait(10s) == std::optional<int>(1));
  torsion_test::child_process bad({example("int32_client"), "--port", "1", "--sizes", "x"});
  CHECK(bad.wait(5s) == std::optional<int>(2));
}
