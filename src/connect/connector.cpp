#include "torsion/connect/connector.hpp"

#include <cstring>

#include "torsion/core/detail/spawned.hpp"
#include "torsion/core/yield.hpp"

namespace torsion {

const char* to_string(connector_state s) noexcept {
  switch (s) {
    case connector_state::disconnected: return "disconnected";
    case connector_state::connecting: return "connecting";
    case connector_state::connected: return "connected";
  }
  return "?";
}

const char* to_string(connector_event_kind k) noexcept {
  switch (k) {
    case connector_event_kind::attempt: return "attempt";
    case connector_event_kind::connected: return "connected";
    case connector_event_kind::failed: return "failed";
    case connector_event_kind::lost: return "lost";
    case connector_event_kind::retry: return "retry";
    case connector_event_kind::gave_up: return "gave_up";
  }
  return "?";
}

std::string error_code_name(const std::error_code& ec) {
  if (!ec) return "none";
  if (&ec.category() == &torsion_category()) {
    switch (static_cast<errc>(ec.value())) {
#define TORSION_NAME(x) \
  case errc::x: return #x;
      TORSION_NAME(operation_canceled)
      TORSION_NAME(timed_out)
      TORSION_NAME(connection_done)
      TORSION_NAME(connection_lost)
      TORSION_NAME(connection_aborted)
      TORSION_NAME(connection_refused)
      TORSION_NAME(dns_lookup_failed)
      TORSION_NAME(line_too_long)
      TORSION_NAME(user_cancelled)
      TORSION_NAME(connect_bind_failed)
      TORSION_NAME(cannot_listen)
      TORSION_NAME(application_error)
      TORSION_NAME(invalid_address)
      TORSION_NAME(invalid_port)
      TORSION_NAME(invalid_state)
      TORSION_NAME(not_connecting)
      TORSION_NAME(self_connect)
      TORSION_NAME(no_protocol)
      TORSION_NAME(io_uring_disabled)
      TORSION_NAME(io_uring_unsupported)
      TORSION_NAME(io_uring_memlock)
      TORSION_NAME(resource_exhausted)
      TORSION_NAME(netstring_parse_error)
      TORSION_NAME(length_limit_exceeded)
      TORSION_NAME(string_too_long)
#undef TORSION_NAME
    }
  }
  if (const char* name = ::strerrorname_np(ec.value())) return name;
  return ec.category().name() + std::string(":") + std::to_string(ec.value());
}

// One attempt, shared between the connector and the coroutine doing the work, so that either can go
// first: a connector destroyed or a stop_connecting() mid-attempt just detaches from it.
struct connector::attempt {
  connector* owner;
  bool starting = true;
  std::stop_source stop;
  std::stop_token token = stop.get_token();

  static detail::spawned run(std::shared_ptr<attempt> a, std::string host, std::uint16_t port, connect_options opts) {
    result<tcp_stream> r = failure(errc::operation_canceled);
    try {
      r = co_await torsion::connect(std::move(host), port, opts);
    } catch (...) {
      r = failure(errc::application_error);
    }
    // An outcome known at once (a bad bind address, an empty host) is still reported on a later
    // loop turn, after started_connecting, as Twisted does with callLater(0).
    if (a->starting) co_await yield();
    if (a->owner) a->owner->attempt_done(std::move(r));
  }
};

connector::connector(std::string host, std::uint16_t port, connect_options opts, listener& owner, clock_source& clock)
    : host_(std::move(host)), port_(port), opts_(std::move(opts)), owner_(owner), clock_(clock) {}

connector::~connector() {
  if (attempt_) {
    attempt_->owner = nullptr;
    attempt_->stop.request_stop();
  }
}

result<void> connector::connect() {
  if (state_ != connector_state::disconnected) return failure(errc::invalid_state);
  state_ = connector_state::connecting;
  emit({connector_event_kind::attempt, clock_.now()});
  auto a = std::make_shared<attempt>();
  a->owner = this;
  attempt_ = a;
  // The attempt starts before started_connecting, so the listener may stop it from there (Twisted F).
  attempt::run(a, host_, port_, opts_).start(nullptr, nullptr, &a->token);
  a->starting = false;
  if (state_ == connector_state::connecting && attempt_ == a) owner_.started_connecting(*this);
  return success();
}

void connector::attempt_done(result<tcp_stream> r) {
  attempt_->owner = nullptr;
  attempt_.reset();
  if (!r) {
    state_ = connector_state::disconnected;
    emit({connector_event_kind::failed, clock_.now(), r.error()});
    owner_.connection_failed(*this, r.error());
    return;
  }
  state_ = connector_state::connected;
  emit({connector_event_kind::connected, clock_.now()});
  owner_.connection_made(*this, std::move(r).value());
}

result<void> connector::stop_connecting() {
  if (state_ != connector_state::connecting) return failure(errc::not_connecting);
  state_ = connector_state::disconnected;
  if (attempt_) {
    attempt_->owner = nullptr;  // its late outcome is dropped (a stream it made is closed)
    attempt_->stop.request_stop();
    attempt_.reset();
  }
  const std::error_code why = make_error_code(errc::user_cancelled);
  emit({connector_event_kind::failed, clock_.now(), why});
  owner_.connection_failed(*this, why);
  return success();
}

void connector::disconnect() {
  switch (state_) {
    case connector_state::connecting: (void)stop_connecting(); break;
    case connector_state::connected: owner_.close_requested(*this); break;
    case connector_state::disconnected: break;
  }
}

void connector::connection_lost(std::error_code reason) {
  if (state_ != connector_state::connected) return;
  state_ = connector_state::disconnected;
  emit({connector_event_kind::lost, clock_.now(), reason});
  owner_.connection_lost(*this, reason);
}

}  // namespace torsion
