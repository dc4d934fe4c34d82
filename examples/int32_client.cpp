// The client of int32_server, in the callback style: an Int32StringReceiver that sends requests
// of the given sizes one at a time and checks that each reply is the request reversed.
//   int32_client --port P [--host 127.0.0.1] [--sizes 0,1,255,256,65535,65536,99999]
//                [--rounds 1] [--timeout 20]
// Prints "OK <requests> requests" and exits 0 when every reply matched; otherwise prints
// "FAIL <why>" to stderr and exits 1 (refused, lost, a wrong reply, or the --timeout watchdog).
#include <charconv>
#include <cstdio>
#include <sstream>
#include <string>
#include <torsion/protocol/reactor.hpp>
#include <torsion/protocols/int_string_receiver.hpp>
#include <torsion/torsion.hpp>
#include <vector>

#include "common/cli.hpp"

using namespace torsion;

namespace {

struct Outcome {
  int status = -1;  // -1 while running
  std::string message;
};

std::string payload(std::size_t size, std::size_t salt) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + salt * 7 + (i >> 8)) & 0xff);
  return s;
}

class Requester : public twisted::Int32StringReceiver {
 public:
  Requester(std::vector<std::size_t> sizes, Outcome& out, twisted::Reactor& r)
      : sizes_(std::move(sizes)), out_(out), reactor_(r) {}

  void connectionMade() override { sendNext(); }

  void stringReceived(std::string_view reply) override {
    const std::string expected(sent_.rbegin(), sent_.rend());
    if (reply != expected) {
      return finish(1, "reply " + std::to_string(next_) + " (" + std::to_string(reply.size()) + " bytes, sent " +
                           std::to_string(sent_.size()) + ") is not the request reversed");
    }
    if (next_ == sizes_.size()) return finish(0, "OK " + std::to_string(sizes_.size()) + " requests");
    sendNext();
  }

  void connectionLost(const twisted::Failure& reason) override {
    finish(1, "connection lost after " + std::to_string(next_) + " requests: " + reason.getErrorMessage());
  }

 private:
  void sendNext() {
    sent_ = payload(sizes_[next_], next_);
    ++next_;
    if (auto r = sendString(sent_); !r) finish(1, "sendString: " + r.error().message());
  }

  void finish(int status, std::string message) {
    if (out_.status >= 0) return;
    out_ = {status, std::move(message)};
    transport->loseConnection();
    reactor_.stop();
  }

  std::vector<std::size_t> sizes_;
  std::size_t next_ = 0;
  std::string sent_;
  Outcome& out_;
  twisted::Reactor& reactor_;
};

class RequesterFactory : public twisted::ClientFactory {
 public:
  RequesterFactory(std::vector<std::size_t> sizes, Outcome& out) : sizes_(std::move(sizes)), out_(out) {}
  std::unique_ptr<twisted::Protocol> buildProtocol(const twisted::Address&) override {
    return std::make_unique<Requester>(sizes_, out_, *reactor);
  }
  void clientConnectionFailed(twisted::IConnector*, const twisted::Failure& reason) override {
    if (out_.status >= 0) return;
    out_ = {1, "cannot connect: " + reason.getErrorMessage()};
    reactor->stop();
  }
  twisted::Reactor* reactor = nullptr;

 private:
  std::vector<std::size_t> sizes_;
  Outcome& out_;
};

std::vector<std::size_t> parse_sizes(const std::string& list) {
  std::vector<std::size_t> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    std::size_t v = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc{} || p != item.data() + item.size()) return {};
    out.push_back(v);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  example::cli args(argc, argv, {"host", "port", "sizes", "rounds", "timeout"});
  if (!args.has("port")) {
    std::fprintf(stderr, "int32_client: --port is required\n");
    return 2;
  }
  const std::string host = args.str("host", "127.0.0.1");
  const auto port = args.num<std::uint16_t>("port", 0, 1, 65535);
  const auto rounds = args.num<int>("rounds", 1, 1, 1'000'000);
  const auto timeout = args.num<double>("timeout", 20, 0.1, 3600);
  const std::vector<std::size_t> one_round = parse_sizes(args.str("sizes", "0,1,255,256,65535,65536,99999"));
  if (one_round.empty()) {
    std::fprintf(stderr, "int32_client: --sizes must be a comma-separated list of byte counts\n");
    return 2;
  }
  std::vector<std::size_t> sizes;
  for (int i = 0; i < rounds; ++i) sizes.insert(sizes.end(), one_round.begin(), one_round.end());

  auto px = proactor::create();
  if (!px) {
    std::fprintf(stderr, "int32_client: %s\n", px.error().message().c_str());
    return 1;
  }
  Outcome out;
  RequesterFactory factory(sizes, out);  // before the reactor, which may still call it on shutdown
  twisted::Reactor reactor(*px.value());
  factory.reactor = &reactor;
  auto connector = reactor.connectTCP(host, port, factory, timeout);
  auto watchdog = reactor.callLater(timeout, [&] {
    if (out.status < 0) out = {1, "no result within the timeout"};
    reactor.stop();
  });
  reactor.run();
  (void)watchdog->cancel();
  if (out.status == 0) {
    std::printf("%s\n", out.message.c_str());
    return 0;
  }
  std::fprintf(stderr, "FAIL %s\n", out.message.empty() ? "stopped" : out.message.c_str());
  return 1;
}
