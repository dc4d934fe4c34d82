#include "torsion/protocol/reactor.hpp"

#include <cstdio>

#include "torsion/core/yield.hpp"
#include "torsion/io/signal_set.hpp"
#include "torsion/protocol/tcp_transport.hpp"
#include "torsion/time/real_clock.hpp"
#include "torsion/time/sleep.hpp"

namespace torsion::twisted {

using namespace std::chrono_literals;

// ---- Port ----

Port::Port(Reactor& r, tcp_listener l, Factory& f) : reactor_(r), listener_(std::move(l)), factory_(f) {
  if (auto ep = listener_.local_endpoint()) host_ = Address::from(ep.value());
}

Port::~Port() {
  *alive_ = false;
  if (listener_.is_open()) listener_.close();
  // No later turn to wait for: the port (and soon, perhaps, its factory) is going away now.
  if (listener_open_or_stop_pending()) factory_.doStop();
}

bool Port::listener_open_or_stop_pending() noexcept { return std::exchange(factory_running_, false); }

void Port::stopListening() {
  if (!listener_.is_open()) return;
  listener_.close();
  // Twisted stops the factory from a later loop turn (stopListening returns a Deferred). The task
  // checks that the port still exists: its destructor stops the factory itself otherwise.
  reactor_.tasks().spawn([](Port* self, std::shared_ptr<bool> alive) -> task<void> {
    co_await yield();
    if (*alive && self->listener_open_or_stop_pending()) self->factory_.doStop();
  }(this, alive_));
}

task<void> Port::accept_loop() {
  const auto alive = alive_;
  for (;;) {
    auto s = co_await listener_.accept();
    if (!*alive) co_return;
    if (s) {
      reactor_.tasks().spawn(serve(std::move(s).value()));
      continue;
    }
    if (!listener_.is_open() || s.error() == errc::operation_canceled) co_return;
    // EMFILE and friends: say so, let descriptors free up, keep serving the connections we have.
    std::fprintf(stderr, "%s: accept failed: %s\n", factory_.logPrefix().c_str(), s.error().message().c_str());
    auto slept = co_await sleep_for(100ms);
    if (!slept) co_return;
  }
}

task<void> Port::serve(tcp_stream s) {
  auto p = build_protocol_logged(factory_, s);
  if (!p) co_return;  // refused: the stream closes here, the client sees a clean close
  tcp_transport t(std::move(s), std::move(p));
  auto why = co_await t.run();
  (void)why;
}

// ---- Reactor ----

Reactor::Reactor(proactor& px) : px_(px) {}

Reactor::~Reactor() {
  if (tasks_.size() == 0) return;
  px_.run([](task_group& g) -> task<void> {
    g.request_stop();
    co_await g.join();
  }(tasks_));
}

clock_source& Reactor::clock() const { return px_.use_service<real_clock>(); }

result<std::unique_ptr<IListeningPort>> Reactor::listenTCP(std::uint16_t port, Factory& factory, int backlog,
                                                 const std::string& interface) {
  ip_address addr = ip_address::any_v4();
  if (!interface.empty()) {
    TORSION_TRY(auto parsed, ip_address::parse(interface));
    addr = parsed;
  }
  TORSION_TRY(auto l, tcp_listener::listen(endpoint(addr, port), {.backlog = backlog}, px_));
  factory.doStart();  // only once bind and listen have succeeded, as Twisted
  auto p = std::make_unique<Port>(*this, std::move(l), factory);
  tasks_.spawn(p->accept_loop());
  return std::unique_ptr<IListeningPort>(std::move(p));
}

std::unique_ptr<IConnector> Reactor::connectTCP(std::string host, std::uint16_t port, ClientFactory& factory,
                                                double timeout, BindAddress bindAddress) {
  connect_options opts;
  opts.timeout = timeout > 0 ? std::optional<std::chrono::nanoseconds>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::duration<double>(timeout)))
                             : std::nullopt;
  if (bindAddress) {
    // An address that does not parse fails the attempt (connect_bind_failed), asynchronously.
    auto a = ip_address::parse(bindAddress->first.empty() ? "0.0.0.0" : bindAddress->first);
    opts.bind_address = endpoint(a ? a.value() : ip_address::any_v6(), a ? bindAddress->second : 1);
  }
  auto c = std::make_unique<Connector>(*this, std::move(host), port, factory, std::move(opts));
  (void)c->connect();
  return c;
}

void Reactor::run(bool installSignalHandlers) { px_.run(main(installSignalHandlers)); }

task<void> Reactor::stop_on_signals() {
  signal_set signals{SIGINT, SIGTERM};
  auto sig = co_await signals.wait();
  if (sig) stop();  // an error here means the reactor is already stopping
}

void Reactor::stop() { stop_requested_.set(); }

task<void> Reactor::main(bool install_signal_handlers) {
  running_ = true;
  if (install_signal_handlers) tasks_.spawn(stop_on_signals());
  auto pending = std::move(when_running_);
  when_running_.clear();
  for (auto& fn : pending) fn();
  co_await stop_requested_.wait();
  running_ = false;
  // As Twisted's shutdown: every connection is dropped (ConnectionLost), every port closed.
  tasks_.request_stop();
  co_await tasks_.join();
}

}  // namespace torsion::twisted
