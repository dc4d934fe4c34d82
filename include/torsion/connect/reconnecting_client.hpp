#pragma once
// The coroutine view of the connector and retry engine: a client that stays connected. run() connects,
// runs `session` on each connection, and after a failure or a loss waits as the backoff policy says
// and connects again, until stop_trying()/stop() or until the policy gives up.
//
//   reconnecting_client client({.host = "127.0.0.1", .port = 8000});
//   co_await client.run([](tcp_stream& s) -> task<result<void>> { ... co_return success(); });
//
// A session that returns success ended cleanly (its loss is reported as connection_done); an error it
// returns is the loss reason; an exception it throws is application_error.
#include <coroutine>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "torsion/connect/backoff_policy.hpp"
#include "torsion/connect/connector.hpp"
#include "torsion/connect/random_source.hpp"
#include "torsion/connect/retry_engine.hpp"
#include "torsion/core/task.hpp"

namespace torsion {

struct reconnect_options {
  std::string host;
  std::uint16_t port = 0;
  connect_options connect{};
  std::unique_ptr<backoff_policy> policy = std::make_unique<twisted_backoff>();
  clock_source* clock = nullptr;   // null: the proactor's real clock
  random_source* rng = nullptr;    // null: a python_random seeded from std::random_device
  std::function<void(const connector_event&)> on_event{};
};

class reconnecting_client final : private connector::listener {
 public:
  using session_fn = std::function<task<result<void>>(tcp_stream&)>;

  explicit reconnecting_client(reconnect_options opts);
  ~reconnecting_client() override;

  // Returns success once stopped, or the last failure reason when the policy gave up. Cancelling the
  // calling task (its stop token) stops the client and closes the current connection.
  task<result<void>> run(session_fn session);

  // Twisted's stopTrying(): no more attempts; an attempt in flight is aborted; a live connection is
  // left up, and run() returns when it ends.
  void stop_trying();
  // stop_trying() and close the live connection too.
  void stop();
  // Twisted's resetDelay(); call it once a connection is known good if the policy does not reset itself.
  void reset_delay() { engine_.reset_delay(); }

  retry_engine& engine() noexcept { return engine_; }
  connector& get_connector() noexcept { return connector_; }

 private:
  void started_connecting(connector& c) override { engine_.started_connecting(c); }
  void connection_failed(connector& c, std::error_code reason) override;
  void connection_made(connector& c, tcp_stream stream) override;
  void connection_lost(connector& c, std::error_code reason) override;
  void close_requested(connector&) override;
  void finish_if_idle();
  void wake();

  struct wait_awaiter {
    reconnecting_client& self;
    bool await_ready() const noexcept { return self.signalled_; }
    void await_suspend(std::coroutine_handle<> h) noexcept { self.waiter_ = h; }
    void await_resume() noexcept {
      self.signalled_ = false;
      self.waiter_ = {};
    }
  };

  std::unique_ptr<random_source> own_rng_;
  retry_engine engine_;
  connector connector_;
  std::optional<tcp_stream> pending_stream_;
  std::optional<std::stop_source> session_stop_;
  std::error_code last_failure_;
  bool done_ = false;
  bool stopped_by_user_ = false;
  bool signalled_ = false;
  std::coroutine_handle<> waiter_{};
};

}  // namespace torsion
