#include "torsion/net/tcp_listener.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "torsion/net/socket.hpp"

namespace torsion {

struct tcp_listener::state {
  proactor* px;
  int fd = -1;
  listen_options opts;
  std::uint64_t multishot_ud = 0;  // armed multishot accept, or 0
  std::deque<int> ready;           // accepted, not yet handed out
  std::optional<int> pending_error;
  std::deque<accept_awaiter*> waiters;

  bool use_multishot() const noexcept { return opts.multishot && px->features().multishot_accept; }

  void arm() {
    if (multishot_ud || fd < 0) return;
    multishot_ud = px->start_callback_op(
        [fd = fd](io_uring_sqe* sqe, detail::op_slot&) { io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC); },
        &state::on_cqe, this, true);
    // 0: the ring is at capacity; accept() re-arms on its next call.
  }

  static void on_cqe(void* ctx, int res, std::uint32_t flags) {
    auto* s = static_cast<state*>(ctx);
    if (!(flags & IORING_CQE_F_MORE)) s->multishot_ud = 0;
    if (res == -ECANCELED) {
      // We cancelled it (queue full or closing). An accept() that came meanwhile found it still
      // armed and did not arm another: do it now, or that caller would wait forever.
      if (!s->waiters.empty()) s->arm();
      return;
    }
    if (!s->waiters.empty()) {
      accept_awaiter* w = s->waiters.front();
      s->waiters.pop_front();
      w->queued_ = false;
      w->stop_cb_.reset();
      w->outcome_ = res >= 0 ? result<int>(res) : result<int>(failure(errno_code(-res)));
      s->px->resume(w->waiter_);
    } else if (res >= 0) {
      s->ready.push_back(res);
      if (s->ready.size() >= s->opts.max_queued && s->multishot_ud) s->px->cancel_op(s->multishot_ud);
    } else {
      s->pending_error = -res;
    }
  }

  void close() noexcept {
    if (fd < 0) return;
    if (multishot_ud) {
      px->cancel_op(multishot_ud);
      px->detach_op(multishot_ud);
      multishot_ud = 0;
    }
    px->cancel_fd(fd);
    ::close(std::exchange(fd, -1));
    for (int c : ready) ::close(c);
    ready.clear();
    while (!waiters.empty()) {
      accept_awaiter* w = waiters.front();
      waiters.pop_front();
      w->queued_ = false;
      w->stop_cb_.reset();
      w->outcome_ = result<int>(failure(errc::operation_canceled));
      px->post(w->waiter_);
    }
  }
};

tcp_listener::tcp_listener() noexcept = default;
tcp_listener::tcp_listener(tcp_listener&&) noexcept = default;
tcp_listener& tcp_listener::operator=(tcp_listener&& o) noexcept {
  if (this != &o) {
    close();
    s_ = std::move(o.s_);
  }
  return *this;
}
tcp_listener::~tcp_listener() { close(); }

result<tcp_listener> tcp_listener::listen(const endpoint& ep, const listen_options& opts) {
  proactor* px = proactor::current();
  if (!px) return failure(errc::invalid_state);
  return listen(ep, opts, *px);
}

result<tcp_listener> tcp_listener::listen(const endpoint& ep, const listen_options& opts, proactor& px) {
  TORSION_TRY(auto fd, net::open_tcp_socket(ep.family()));
  auto fail = [fd](int err) {
    ::close(fd);
    return failure(errno_code(err));
  };
  if (opts.reuse_address && !net::set_bool_option(fd, SOL_SOCKET, SO_REUSEADDR, true)) return fail(errno);
  if (opts.reuse_port && !net::set_bool_option(fd, SOL_SOCKET, SO_REUSEPORT, true)) return fail(errno);
  sockaddr_storage ss{};
  const socklen_t len = ep.to_sockaddr(ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return fail(errno);
  if (::listen(fd, opts.backlog) != 0) return fail(errno);
  tcp_listener l;
  l.s_ = std::make_unique<state>();
  l.s_->px = &px;
  l.s_->fd = fd;
  l.s_->opts = opts;
  l.s_->opts.max_queued = std::max<std::size_t>(1, opts.max_queued);
  return l;
}

result<endpoint> tcp_listener::local_endpoint() const noexcept {
  if (!is_open()) return failure(errno_code(EBADF));
  return net::local_endpoint_of(s_->fd);
}
bool tcp_listener::is_open() const noexcept { return s_ && s_->fd >= 0; }
int tcp_listener::native_handle() const noexcept { return s_ ? s_->fd : -1; }
void tcp_listener::close() noexcept {
  if (s_) s_->close();
}

// ---- accept ----

tcp_listener::accept_awaiter::~accept_awaiter() {
  stop_cb_.reset();
  if (queued_) std::erase(s_->waiters, this);
}

bool tcp_listener::accept_awaiter::await_ready() {
  if (!s_ || s_->fd < 0) {
    outcome_ = result<int>(failure(errno_code(EBADF)));
    return true;
  }
  if (!s_->use_multishot()) return false;
  if (!s_->ready.empty()) {
    outcome_ = s_->ready.front();
    s_->ready.pop_front();
    if (s_->ready.size() <= s_->opts.max_queued / 2) s_->arm();
    return true;
  }
  if (s_->pending_error) {
    outcome_ = result<int>(failure(errno_code(*std::exchange(s_->pending_error, std::nullopt))));
    return true;
  }
  return false;
}

bool tcp_listener::accept_awaiter::suspend(std::coroutine_handle<> h, const std::stop_token* stop) {
  waiter_ = h;
  if (detail::stop_requested(stop)) {
    outcome_ = result<int>(failure(errc::operation_canceled));
    return false;
  }
  if (!s_->use_multishot()) {
    single_.emplace(*s_->px, s_->fd);
    return single_->suspend_with(h, stop);
  }
  queued_ = true;
  s_->waiters.push_back(this);
  s_->arm();
  if (stop && stop->stop_possible()) stop_cb_.emplace(*stop, on_stop{this});
  return true;
}

void tcp_listener::accept_awaiter::on_stop::operator()() const noexcept {
  if (!self->queued_) return;
  std::erase(self->s_->waiters, self);
  self->queued_ = false;
  self->outcome_ = result<int>(failure(errc::operation_canceled));
  self->s_->px->post(self->waiter_);
}

result<tcp_stream> tcp_listener::accept_awaiter::await_resume() {
  if (single_) {
    auto r = single_->await_resume();
    if (!r) return r.error();
    return tcp_stream(r.value().fd, *s_->px);
  }
  if (!outcome_->has_value()) return outcome_->error();
  return tcp_stream(outcome_->value(), *s_->px);
}

}  // namespace torsion
