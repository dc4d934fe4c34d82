#include <catch2/catch.hpp>
#include <string>
#include <torsion/torsion.hpp>
#include <vector>

using namespace torsion;
using namespace std::chrono_literals;

namespace {

// A listener that records what the connector tells it, and can react from inside the callbacks.
struct recording_listener : connector::listener {
  std::vector<std::string> log;
  std::vector<tcp_stream> streams;
  std::function<void(connector&)> on_started, on_failed;
  void started_connecting(connector& c) override {
    log.push_back(std::string("started ") + to_string(c.state()));
    if (on_started) on_started(c);
  }
  void connection_failed(connector& c, std::error_code r) override {
    log.push_back("failed " + error_code_name(r) + " " + to_string(c.state()));
    if (on_failed) on_failed(c);
  }
  void connection_made(connector& c, tcp_stream s) override {
    log.push_back(std::string("made ") + to_string(c.state()));
    streams.push_back(std::move(s));
  }
  void connection_lost(connector& c, std::error_code r) override {
    log.push_back("lost " + error_code_name(r) + " " + to_string(c.state()));
  }
  void close_requested(connector&) override { log.push_back("close requested"); }
};

std::uint16_t closed_port() {
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  const auto port = l.value().local_endpoint().value().port();
  return port;  // the listener closes here: nobody listens on it now
}

task<void> turns(int n) {
  for (int i = 0; i < n; ++i) (void)co_await nop();
}

}  // namespace

TEST_CASE("connector state machine follows Twisted's rules", "[connect]") {
  proactor px;
  virtual_clock clk;
  recording_listener rec;
  auto l = tcp_listener::listen(endpoint(ip_address::loopback_v4(), 0));
  REQUIRE(l);
  connector c("127.0.0.1", l.value().local_endpoint().value().port(), {}, rec, clk);
  CHECK(c.state() == connector_state::disconnected);
  CHECK(c.stop_connecting().error() == errc::not_connecting);
  c.disconnect();  // no-op while disconnected
  REQUIRE(c.connect());
  CHECK(c.state() == connector_state::connecting);
  CHECK(rec.log == std::vector<std::string>{"started connecting"});  // synchronously, inside connect()
  CHECK(c.connect().error() == errc::invalid_state);                 // "can't connect in this state"
  px.run([](connector& c) -> task<void> {
    while (c.state() == connector_state::connecting) (void)co_await nop();
  }(c));
  CHECK(c.state() == connector_state::connected);
  CHECK(c.connect().error() == errc::invalid_state);
  CHECK(c.stop_connecting().error() == errc::not_connecting);
  c.disconnect();  // connected: the listener is asked to close
  CHECK(rec.log.back() == "close requested");
  c.connection_lost(make_error_code(errc::connection_done));
  CHECK(rec.log.back() == "lost connection_done disconnected");
  CHECK(c.host() == "127.0.0.1");
}

TEST_CASE("stop_connecting inside started_connecting fails the attempt synchronously", "[connect]") {
  proactor px;
  virtual_clock clk;
  recording_listener rec;
  rec.on_started = [](connector& c) { REQUIRE(c.stop_connecting()); };
  connector c("127.0.0.1", closed_port(), {}, rec, clk);
  REQUIRE(c.connect());
  // Twisted scenario F: the failure (UserError) arrives before connect() returns.
  CHECK(rec.log == std::vector<std::string>{"started connecting", "failed user_cancelled disconnected"});
  px.run(turns(5));  // the aborted attempt's late outcome is dropped
  CHECK(rec.log.size() == 2);
}

TEST_CASE("a listener may reconnect from inside connection_failed", "[connect]") {
  proactor px;
  virtual_clock clk;
  recording_listener rec;
  int tries = 0;
  rec.on_failed = [&](connector& c) {
    if (++tries < 3) REQUIRE(c.connect());
  };
  connector c("127.0.0.1", closed_port(), {}, rec, clk);
  REQUIRE(c.connect());
  px.run([](int& tries) -> task<void> {
    while (tries < 3) (void)co_await nop();
  }(tries));
  CHECK(rec.log == std::vector<std::string>{"started connecting", "failed connection_refused disconnected",
                                            "started connecting", "failed connection_refused disconnected",
                                            "started connecting", "failed connection_refused disconnected"});
}

TEST_CASE("an outcome known at once is still reported after started_connecting", "[connect]") {
  proactor px;
  virtual_clock clk;
  recording_listener rec;
  connector c("", 80, {}, rec, clk);  // empty host: no lookup needed to know it fails
  REQUIRE(c.connect());
  CHECK(rec.log == std::vector<std::string>{"started connecting"});
  px.run(turns(3));
  CHECK(rec.log == std::vector<std::string>{"started connecting", "failed dns_lookup_failed disconnected"});
}

TEST_CASE("a loopback self-connect is a failed attempt", "[connect]") {
  proactor px;
  // Bind the client to the very address it connects to: TCP's simultaneous open connects the socket
  // to itself, which must not count as a connection.
  const std::uint16_t port = closed_port();
  const endpoint self(ip_address::loopback_v4(), port);
  auto r = px.run([](endpoint self) -> task<result<tcp_stream>> {
    co_return co_await connect(self, {.bind_address = self});
  }(self));
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::self_connect);
}

TEST_CASE("destroying a connector mid-attempt is safe", "[connect]") {
  proactor px;
  virtual_clock clk;
  recording_listener rec;
  {
    connector c("127.0.0.1", closed_port(), {}, rec, clk);
    REQUIRE(c.connect());
  }
  px.run(turns(5));
  CHECK(rec.log == std::vector<std::string>{"started connecting"});
}
