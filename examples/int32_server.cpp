// A request/response server over Int32StringReceiver framing (a 4-byte big-endian length, then
// the bytes): each request is answered with its bytes reversed. Both styles share one parser.
//   int32_server [--host 127.0.0.1] [--port 0] [--style coro|callback]
// Prints one line "listening on HOST:PORT" once ready; SIGINT/SIGTERM stop it (exit 0). A request
// over 99999 bytes (MAX_LENGTH) ends that connection.
#include <algorithm>
#include <cstdio>
#include <string>
#include <torsion/protocol/reactor.hpp>
#include <torsion/protocols/framed_stream.hpp>
#include <torsion/protocols/int_string_receiver.hpp>
#include <torsion/torsion.hpp>

#include "common/cli.hpp"
#include "common/server.hpp"

using namespace torsion;

namespace {

// ---- coroutine style ----

task<void> answer(tcp_stream s) {
  int_string_reader requests(s);
  std::string reply;
  for (;;) {
    auto request = co_await requests.next();
    if (!request) co_return;  // end of stream, a read error, or an oversize request
    reply.assign(request.value().rbegin(), request.value().rend());
    auto sent = co_await write_int_string(s, reply);
    if (!sent) co_return;
  }
}

// ---- callback style ----

class Reverse : public twisted::Int32StringReceiver {
 public:
  void stringReceived(std::string_view request) override {
    reply_.assign(request.rbegin(), request.rend());
    (void)sendString(reply_);  // never too long: it is as long as a request
  }

 private:
  std::string reply_;
};

}  // namespace

int main(int argc, char** argv) {
  example::cli args(argc, argv, {"host", "port", "style"});
  const std::string style = args.str("style", "coro");
  if (style != "coro" && style != "callback") {
    std::fprintf(stderr, "int32_server: --style must be coro or callback\n");
    return 2;
  }
  const std::string host = args.str("host", "127.0.0.1");
  const auto port = args.num<std::uint16_t>("port", 0, 0, 65535);
  auto px = proactor::create();
  if (!px) {
    std::fprintf(stderr, "int32_server: %s\n", px.error().message().c_str());
    return 1;
  }
  auto where = example::listen_endpoint(*px.value(), "int32_server", host, port);
  if (!where) return 1;
  if (style == "callback") {
    auto factory = twisted::Factory::forProtocol<Reverse, twisted::ServerFactory>();
    return example::serve_callback(*px.value(), "int32_server", where.value(), *factory);
  }
  return px.value()->run(example::serve_coro("int32_server", where.value(), answer));
}
