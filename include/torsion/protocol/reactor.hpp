#pragma once
// Twisted's reactor, as a facade over a proactor: listenTCP, connectTCP, callLater, run, stop,
// callWhenRunning. Callback code and coroutine code share the proactor, so they can talk to each
// other. Connections and accept loops run as tasks of the reactor.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "torsion/core/event.hpp"
#include "torsion/core/result.hpp"
#include "torsion/core/task_group.hpp"
#include "torsion/io/proactor.hpp"
#include "torsion/net/tcp_listener.hpp"
#include "torsion/protocol/address.hpp"
#include "torsion/protocol/connector.hpp"
#include "torsion/protocol/delayed_call.hpp"
#include "torsion/protocol/factory.hpp"
#include "torsion/protocol/reactor_interfaces.hpp"

namespace torsion::twisted {

class Reactor;

// What listenTCP returns (IListeningPort). The factory must outlive the port.
class Port final : public IListeningPort {
 public:
  Port(Reactor& r, tcp_listener l, Factory& f);
  Port(const Port&) = delete;
  ~Port() override;

  // Stop accepting. The factory's doStop runs on a later loop turn; connections already accepted
  // stay up. A second call does nothing.
  void stopListening() override;
  Address getHost() const override { return host_; }
  bool listening() const noexcept { return listener_.is_open(); }

 private:
  friend class Reactor;
  task<void> accept_loop();
  task<void> serve(tcp_stream s);
  // True once: whoever stops the factory first (the deferred stopListening or the destructor).
  bool listener_open_or_stop_pending() noexcept;

  Reactor& reactor_;
  tcp_listener listener_;
  Factory& factory_;
  Address host_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool factory_running_ = true;  // doStart ran for this port; doStop has not yet
};

class Reactor final : public IReactorTCP, public IReactorTime {
 public:
  explicit Reactor(proactor& px = proactor::current_or_throw());
  Reactor(const Reactor&) = delete;
  ~Reactor() override;

  // Bind and listen now (errors such as EADDRINUSE come back at once, Twisted's CannotListenError).
  // interface "" means all IPv4 addresses.
  result<std::unique_ptr<IListeningPort>> listenTCP(std::uint16_t port, Factory& factory, int backlog = 50,
                                                    const std::string& interface = "") override;
  // Start connecting now (startedConnecting has run when this returns). timeout in seconds, 0 for none.
  std::unique_ptr<IConnector> connectTCP(std::string host, std::uint16_t port, ClientFactory& factory,
                                         double timeout = 30, BindAddress bindAddress = {}) override;

  // Run fn after `seconds` on the reactor's clock; the handle can cancel, reset or delay it.
  std::shared_ptr<DelayedCall> callLater(double seconds, std::function<void()> fn) override {
    return twisted::callLater(clock(), seconds, std::move(fn));
  }

  // Run until stop(); callWhenRunning functions run first. As Twisted's reactor.run(), SIGINT and
  // SIGTERM stop the reactor unless installSignalHandlers is false.
  void run(bool installSignalHandlers = true);
  void stop();
  void callWhenRunning(std::function<void()> fn) { when_running_.push_back(std::move(fn)); }
  bool running() const noexcept { return running_; }
  double seconds() const override { return clock().seconds(); }
  clock_source& clock() const;

  proactor& get_proactor() noexcept { return px_; }
  // Where connection and accept tasks run.
  task_group& tasks() noexcept { return tasks_; }

 private:
  task<void> main(bool install_signal_handlers);
  task<void> stop_on_signals();

  proactor& px_;
  task_group tasks_;
  async_event stop_requested_;
  std::vector<std::function<void()>> when_running_;
  bool running_ = false;
};

}  // namespace torsion::twisted
