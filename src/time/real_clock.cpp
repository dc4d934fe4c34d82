#include "torsion/time/real_clock.hpp"

#include <stdexcept>

namespace torsion {

real_clock::~real_clock() {
  if (armed_ud_) px_.detach_op(armed_ud_);
  if (counted_) px_.remove_external_work();
}

real_clock& real_clock::current() {
  return proactor::current_or_throw().use_service<real_clock>();
}

clock_source::time_point real_clock::now() const noexcept {
  return std::chrono::time_point_cast<duration>(std::chrono::steady_clock::now());
}

void real_clock::sync_work() noexcept {
  // Pending timers are work the proactor must wait for, though not counted as operations.
  const bool has = !q_.empty();
  if (has == counted_) return;
  counted_ = has;
  if (has) px_.add_external_work();
  else px_.remove_external_work();
}

void real_clock::schedule(timer_entry& e) {
  q_.push(e);
  sync_work();
  rearm();
}

void real_clock::cancel(timer_entry& e) noexcept {
  if (!e.scheduled()) return;
  q_.erase(e);
  sync_work();
  // The armed kernel timeout may now be early; it then finds nothing due and re-arms. Cheaper
  // than cancelling it on every cancel.
}

void real_clock::rearm() {
  timer_entry* top = q_.top();
  if (!top) return;
  if (armed_ud_ && armed_for_ <= top->deadline) return;  // will fire in time anyway
  if (armed_ud_) {
    px_.cancel_op(armed_ud_);
    px_.detach_op(armed_ud_);
  }
  armed_for_ = top->deadline;
  const auto ns = armed_for_.time_since_epoch().count();
  pending_ts_.tv_sec = ns / 1'000'000'000;
  pending_ts_.tv_nsec = ns % 1'000'000'000;
  armed_ud_ = px_.start_callback_op(
      [this](io_uring_sqe* sqe, detail::op_slot& s) {
        s.ts = pending_ts_;
        io_uring_prep_timeout(sqe, &s.ts, 0, IORING_TIMEOUT_ABS);
      },
      &real_clock::on_kernel_timeout, this, false, 1, /*internal=*/true);
}

void real_clock::on_kernel_timeout(void* ctx, int, std::uint32_t) {
  auto* self = static_cast<real_clock*>(ctx);
  self->armed_ud_ = 0;
  const time_point t = self->now();
  while (timer_entry* e = self->q_.top()) {
    if (e->deadline > t) break;
    self->q_.pop();
    self->sync_work();
    e->fire(*e);
  }
  self->sync_work();
  self->rearm();
}

}  // namespace torsion
