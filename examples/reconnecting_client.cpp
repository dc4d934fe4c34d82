// Stays connected to --host/--port: on each connection it sends one line and then reads until the
// server closes; after every failure or loss it waits as the backoff policy says and reconnects.
// One line per engine event on stdout:
//   t=<seconds since start> event=<attempt|connected|failed|lost|retry|gave_up> [delay=<s>] [reason=<code>]
// Exits 0 when the policy gives up or on SIGINT/SIGTERM.
//   reconnecting_client --host H --port P [--policy twisted|bounded] [--initial-delay S] [--factor F]
//     [--jitter J] [--max-delay S] [--max-retries N] [--seed N] [--style coro|callback]
// Both styles print the same lines: they run on the same connector and retry engine.
#include <cstdio>
#include <string_view>
#include <torsion/protocol/reactor.hpp>
#include <torsion/protocol/reconnecting_client_factory.hpp>
#include <torsion/torsion.hpp>

#include "common/cli.hpp"

using namespace torsion;

namespace {

std::unique_ptr<backoff_policy> make_policy(const example::cli& args) {
  const std::string kind = args.str("policy", "twisted");
  const std::optional<unsigned> max_retries =
      args.has("max-retries") ? std::optional<unsigned>(args.num<unsigned>("max-retries", 0, 0, 1u << 30)) : std::nullopt;
  if (kind == "twisted") {
    auto p = std::make_unique<twisted_backoff>();
    p->initial_delay = p->delay = args.num<double>("initial-delay", p->initial_delay, 0, 1e9);
    p->factor = args.num<double>("factor", p->factor, 0, 1e9);
    p->jitter = args.num<double>("jitter", p->jitter, 0, 1e9);
    p->max_delay = args.num<double>("max-delay", p->max_delay, 0, 1e9);
    p->max_retries = max_retries;
    return p;
  }
  if (kind == "bounded") {
    auto p = std::make_unique<bounded_backoff>();
    p->initial_delay = args.num<double>("initial-delay", p->initial_delay, 0, 1e9);
    p->factor = args.num<double>("factor", p->factor, 0, 1e9);
    p->jitter = args.num<double>("jitter", p->jitter, 0, 1e9);
    p->max_delay = args.num<double>("max-delay", p->max_delay, 0, 1e9);
    p->max_retries = max_retries;
    return p;
  }
  std::fprintf(stderr, "reconnecting_client: --policy must be twisted or bounded\n");
  std::exit(2);
}

task<result<void>> say_hello_then_listen(tcp_stream& s) {
  static constexpr std::string_view line = "hello from torsion\r\n";
  TORSION_CO_TRY(co_await s.write_all(std::as_bytes(std::span(line))));
  std::array<std::byte, 4096> buf;
  for (;;) {
    auto n = co_await s.read_some(buf);
    if (!n) co_return n.error();
    if (n.value() == 0) co_return success();
  }
}

void print_event(double t, const char* name, std::optional<double> delay = {}, std::error_code reason = {}) {
  std::printf("t=%.3f event=%s", t, name);
  if (delay) std::printf(" delay=%.3f", *delay);
  if (reason) std::printf(" reason=%s", error_code_name(reason).c_str());
  std::printf("\n");
  std::fflush(stdout);
}

// ---- callback style: a ReconnectingClientFactory subclass, as a Twisted user writes it ----

class Hello : public twisted::Protocol {
 public:
  void connectionMade() override { transport->write("hello from torsion\r\n"); }
};

class EventPrinter : public twisted::ReconnectingClientFactory {
 public:
  explicit EventPrinter(twisted::Reactor& r) : reactor_(r), start_(r.seconds()) { protocol = [] { return std::make_unique<Hello>(); }; }

  void startedConnecting(twisted::IConnector* c) override {
    print_event(now(), "attempt");
    ReconnectingClientFactory::startedConnecting(c);
  }
  std::unique_ptr<twisted::Protocol> buildProtocol(const twisted::Address& addr) override {
    print_event(now(), "connected");
    return ReconnectingClientFactory::buildProtocol(addr);
  }
  void clientConnectionFailed(twisted::IConnector* c, const twisted::Failure& reason) override {
    print_event(now(), "failed", {}, reason.code());
    ReconnectingClientFactory::clientConnectionFailed(c, reason);
    after_failure();
  }
  void clientConnectionLost(twisted::IConnector* c, const twisted::Failure& reason) override {
    print_event(now(), "lost", {}, reason.code());
    ReconnectingClientFactory::clientConnectionLost(c, reason);
    after_failure();
  }

 private:
  double now() const { return reactor_.seconds() - start_; }
  void after_failure() {
    if (engine().retry_pending()) {
      print_event(now(), "retry", std::chrono::duration<double>(*engine().pending_at() - clock_source_now()).count());
    } else if (continueTrying) {
      print_event(now(), "gave_up");
      reactor_.stop();
    }
  }
  clock_source::time_point clock_source_now() const { return reactor_.clock().now(); }
  twisted::Reactor& reactor_;
  double start_;
};

int run_callback(proactor& px, const example::cli& args, std::unique_ptr<backoff_policy> policy) {
  twisted::Reactor reactor(px);
  python_random rng(args.num<std::uint64_t>("seed", 0, 0, ~0ull));
  EventPrinter factory(reactor);
  auto& p = dynamic_cast<twisted_backoff&>(*policy);  // the callback style uses Twisted's policy
  factory.initialDelay = factory.delay = p.initial_delay;
  factory.factor = p.factor;
  factory.jitter = p.jitter;
  factory.maxDelay = p.max_delay;
  factory.maxRetries = p.max_retries;
  if (args.has("seed")) factory.rng = &rng;
  auto connector = reactor.connectTCP(args.str("host", "127.0.0.1"), args.num<std::uint16_t>("port", 0, 1, 65535), factory);
  reactor.run();
  factory.stopTrying();
  return 0;
}

// ---- coroutine style ----

task<int> run(const example::cli& args) {
  signal_set stop_signals{SIGINT, SIGTERM};
  python_random rng(args.num<std::uint64_t>("seed", 0, 0, ~0ull));
  const auto start = real_clock::current().now();
  reconnect_options opts{
      .host = args.str("host", "127.0.0.1"),
      .port = args.num<std::uint16_t>("port", 0, 1, 65535),
      .policy = make_policy(args),
      .rng = args.has("seed") ? &rng : nullptr,
      .on_event =
          [start](const connector_event& e) {
            std::printf("t=%.3f event=%s", std::chrono::duration<double>(e.at - start).count(), to_string(e.kind));
            if (e.delay) std::printf(" delay=%.3f", std::chrono::duration<double>(*e.delay).count());
            if (e.reason) std::printf(" reason=%s", error_code_name(e.reason).c_str());
            std::printf("\n");
            std::fflush(stdout);
          },
  };
  reconnecting_client client(std::move(opts));
  co_await when_any(client.run(say_hello_then_listen), stop_signals.wait());
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  example::cli args(argc, argv,
                    {"host", "port", "policy", "initial-delay", "factor", "jitter", "max-delay", "max-retries", "seed",
                     "style"});
  const std::string style = args.str("style", "coro");
  if (style != "coro" && style != "callback") {
    std::fprintf(stderr, "reconnecting_client: --style must be coro or callback\n");
    return 2;
  }
  if (style == "callback" && args.str("policy", "twisted") != "twisted") {
    std::fprintf(stderr, "reconnecting_client: --style callback uses ReconnectingClientFactory: --policy twisted\n");
    return 2;
  }
  auto px = proactor::create();
  if (!px) {
    std::fprintf(stderr, "reconnecting_client: %s\n", px.error().message().c_str());
    return 1;
  }
  if (style == "callback") return run_callback(*px.value(), args, make_policy(args));
  return px.value()->run(run(args));
}
