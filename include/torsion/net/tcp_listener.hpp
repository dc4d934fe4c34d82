#pragma once
// A listening TCP socket. accept() is an awaitable returning result<tcp_stream>. Where the kernel
// has it, one multishot accept stays armed and feeds a bounded queue; when nobody accepts and the
// queue is full the multishot is cancelled (connections then wait in the kernel backlog) and it is
// re-armed once accept() drains the queue. Errors such as EMFILE reach the next accept() caller.
#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <stop_token>

#include "torsion/core/result.hpp"
#include "torsion/io/proactor.hpp"
#include "torsion/net/address.hpp"
#include "torsion/net/tcp_stream.hpp"

namespace torsion {

struct listen_options {
  int backlog = 128;
  bool reuse_address = true;  // SO_REUSEADDR, as Twisted does on POSIX
  bool reuse_port = false;    // SO_REUSEPORT, for one listener per thread on the same port
  bool multishot = true;      // use multishot accept when the kernel supports it
  std::size_t max_queued = 64;
};

class tcp_listener {
  struct state;

 public:
  tcp_listener() noexcept;
  tcp_listener(tcp_listener&&) noexcept;
  tcp_listener& operator=(tcp_listener&&) noexcept;
  ~tcp_listener();

  // Bind and listen. A taken or forbidden address is cannot_listen's errno (EADDRINUSE, EACCES...).
  static result<tcp_listener> listen(const endpoint& ep, const listen_options& opts, proactor& px);
  // The same on this thread's current proactor; invalid_state if the thread has none.
  static result<tcp_listener> listen(const endpoint& ep, const listen_options& opts = {});

  class accept_awaiter {
   public:
    explicit accept_awaiter(state* s) noexcept : s_(s) {}
    accept_awaiter(const accept_awaiter&) = delete;
    ~accept_awaiter();
    bool await_ready();
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      return suspend(h, detail::stop_token_of(h));
    }
    result<tcp_stream> await_resume();

   private:
    friend struct state;
    bool suspend(std::coroutine_handle<> h, const std::stop_token* stop);
    struct on_stop {
      accept_awaiter* self;
      void operator()() const noexcept;
    };
    state* s_;
    std::coroutine_handle<> waiter_{};
    std::optional<std::stop_callback<on_stop>> stop_cb_;
    std::optional<result<int>> outcome_;
    std::optional<io_op<ops::accept>> single_;  // fallback path: one accept per call
    bool queued_ = false;
  };

  accept_awaiter accept() noexcept { return accept_awaiter(s_.get()); }

  result<endpoint> local_endpoint() const noexcept;
  bool is_open() const noexcept;
  int native_handle() const noexcept;
  // Stop listening: pending accept() calls end with operation_canceled, queued connections are
  // closed. Connections already accepted are not touched.
  void close() noexcept;

 private:
  std::unique_ptr<state> s_;
};

}  // namespace torsion
