#pragma once
// task_group: a scope for concurrent child tasks. spawn() starts a child at once; join() waits for
// every child; request_stop() cancels them through their stop token. The first exception a child
// throws cancels its siblings and is rethrown by join(). A group must be joined before it is
// destroyed (destroying it with running children is a bug and terminates), so no child can
// outlive the data it borrows from the scope that spawned it.
#include <cstddef>
#include <exception>
#include <optional>
#include <stop_token>

#include "torsion/core/detail/spawned.hpp"
#include "torsion/core/task.hpp"

namespace torsion {

class task_group {
 public:
  task_group() : token_(source_.get_token()) {}
  // Also cancel the children when `parent` is stopped.
  explicit task_group(const std::stop_token& parent) : task_group() { link(parent); }
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;
  ~task_group() {
    if (running_ != 0) std::terminate();  // destroyed without join(): children would dangle
  }

  void spawn(task<void> t) {
    ++running_;
    auto s = child(std::move(t), this);
    s.start(&task_group::on_child_done, this, &token_);
  }

  void request_stop() noexcept { source_.request_stop(); }
  bool stop_requested() const noexcept { return token_.stop_requested(); }
  const std::stop_token& get_stop_token() const noexcept { return token_; }
  std::size_t size() const noexcept { return running_; }

  struct join_awaiter {
    // A constructor, not aggregate initialisation: see the note on lookup_awaiter (g++ 12).
    explicit join_awaiter(task_group& grp) noexcept : g(grp) {}
    task_group& g;
    struct forward_stop {
      task_group* g;
      void operator()() const noexcept { g->request_stop(); }
    };
    std::optional<std::stop_callback<forward_stop>> on_parent_stop;

    bool await_ready() const noexcept { return g.running_ == 0; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      // Link first: an already-stopped parent cancels the children right here, and a child that
      // finishes inline must not see a joiner yet (it would resume us inside this call).
      if (auto* tok = detail::stop_token_of(h); tok && tok->stop_possible()) on_parent_stop.emplace(*tok, forward_stop{&g});
      if (g.running_ == 0) return false;
      g.joiner_ = h;
      return true;
    }
    void await_resume() {
      on_parent_stop.reset();
      g.joiner_ = {};
      if (auto e = std::exchange(g.error_, nullptr)) std::rethrow_exception(e);
    }
  };
  [[nodiscard]] join_awaiter join() noexcept { return join_awaiter(*this); }

 private:
  void link(const std::stop_token& parent) { parent_link_.emplace(parent, join_awaiter::forward_stop{this}); }

  static detail::spawned child(task<void> t, task_group* g) {
    try {
      co_await std::move(t);
    } catch (...) {
      if (!g->error_) g->error_ = std::current_exception();
      g->request_stop();
    }
  }

  static std::coroutine_handle<> on_child_done(void* ctx) noexcept {
    auto* g = static_cast<task_group*>(ctx);
    if (--g->running_ == 0 && g->joiner_) return g->joiner_;
    return std::noop_coroutine();
  }

  std::stop_source source_;
  std::stop_token token_;
  std::optional<std::stop_callback<join_awaiter::forward_stop>> parent_link_;
  std::size_t running_ = 0;
  std::coroutine_handle<> joiner_{};
  std::exception_ptr error_;
};

}  // namespace torsion
