#include <catch2/catch.hpp>
#include <chrono>
#include <torsion/protocol/looping_call.hpp>
#include <torsion/protocol/reactor.hpp>
#include <vector>

using namespace torsion;
using namespace torsion::twisted;

TEST_CASE("Reactor callWhenRunning - callLater and LoopingCall on the real clock - stop", "[protocol]") {
  proactor px;
  Reactor reactor(px);
  std::vector<std::string> log;
  LoopingCall ticker([&] { log.push_back("tick"); });
  ticker.clock = &reactor.clock();
  reactor.callWhenRunning([&] {
    log.push_back("running");
    REQUIRE(ticker.start(0.005));  // calls at once, then every 5 ms
    auto never = reactor.callLater(0.01, [&] { log.push_back("cancelled call ran"); });
    REQUIRE(never->cancel());
    reactor.callLater(0.02, [&] {
      log.push_back("later");
      ticker.stop();
      reactor.stop();
    });
  });
  const auto t0 = std::chrono::steady_clock::now();
  reactor.run();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK_FALSE(reactor.running());
  REQUIRE(log.size() >= 4);
  CHECK(log.front() == "running");
  CHECK(log[1] == "tick");
  CHECK(log.back() == "later");
  CHECK(std::count(log.begin(), log.end(), "cancelled call ran") == 0);
  CHECK(elapsed >= std::chrono::milliseconds(20));
  CHECK(elapsed < std::chrono::seconds(2));
}
