#include "torsion/connect/reconnecting_client.hpp"

#include "torsion/core/scheduler.hpp"
#include "torsion/time/real_clock.hpp"

namespace torsion {
namespace {

random_source* pick_rng(reconnect_options& o, std::unique_ptr<random_source>& own) {
  if (o.rng) return o.rng;
  own = std::make_unique<python_random>();
  return own.get();
}

clock_source& pick_clock(reconnect_options& o) { return o.clock ? *o.clock : real_clock::current(); }

}  // namespace

reconnecting_client::reconnecting_client(reconnect_options opts)
    : engine_(std::move(opts.policy), pick_clock(opts), *pick_rng(opts, own_rng_)),
      connector_(std::move(opts.host), opts.port, opts.connect, *this, pick_clock(opts)) {
  connector_.set_observer(std::move(opts.on_event));
}

reconnecting_client::~reconnecting_client() = default;

void reconnecting_client::wake() {
  signalled_ = true;
  // Listener callbacks run inside timers and other coroutines: resume the driver on a later turn.
  if (waiter_) {
    auto h = std::exchange(waiter_, {});
    if (scheduler* s = scheduler::current()) s->post(h);
    else h.resume();
  }
}

void reconnecting_client::finish_if_idle() {
  if (connector_.state() == connector_state::disconnected && !engine_.retry_pending()) {
    done_ = true;
    wake();
  }
}

void reconnecting_client::connection_failed(connector& c, std::error_code reason) {
  last_failure_ = reason;
  engine_.connection_failed(c);
  finish_if_idle();
}

void reconnecting_client::connection_made(connector&, tcp_stream stream) {
  pending_stream_.emplace(std::move(stream));
  wake();
}

void reconnecting_client::connection_lost(connector& c, std::error_code reason) {
  last_failure_ = reason;
  engine_.connection_lost(c);
  finish_if_idle();
}

void reconnecting_client::close_requested(connector&) {
  if (session_stop_) session_stop_->request_stop();
}

void reconnecting_client::stop_trying() {
  stopped_by_user_ = true;
  engine_.stop_trying();
  finish_if_idle();
}

void reconnecting_client::stop() {
  stop_trying();
  connector_.disconnect();
}

task<result<void>> reconnecting_client::run(session_fn session) {
  struct on_parent_stop {
    reconnecting_client* self;
    void operator()() const noexcept { self->stop(); }
  };
  std::optional<std::stop_callback<on_parent_stop>> link;
  if (const std::stop_token* parent = co_await current_stop_token_ptr_awaiter{}; parent && parent->stop_possible())
    link.emplace(*parent, on_parent_stop{this});

  done_ = false;
  if (auto r = connector_.connect(); !r) co_return r.error();
  for (;;) {
    co_await wait_awaiter{*this};
    if (pending_stream_) {
      tcp_stream stream = std::move(*pending_stream_);
      pending_stream_.reset();
      engine_.policy().connected(engine_.clock().now());
      session_stop_.emplace();
      const std::stop_token token = session_stop_->get_token();
      std::error_code reason = make_error_code(errc::connection_done);
      try {
        auto r = co_await session(stream).with_stop_token(token);
        if (!r) reason = r.error();
      } catch (...) {
        reason = make_error_code(errc::application_error);
      }
      session_stop_.reset();
      (void)stream.close();
      connector_.connection_lost(reason);
    }
    if (done_) break;
  }
  if (stopped_by_user_) co_return success();
  co_return failure(last_failure_ ? last_failure_ : make_error_code(errc::operation_canceled));
}

}  // namespace torsion
