#pragma once
// The proactor's steady clock. Timers live in a user-space heap; one kernel timeout (absolute,
// CLOCK_MONOTONIC) is armed for the earliest of them, so adding or cancelling a timer usually costs
// no system call.
#include <cstdint>

#include "torsion/io/proactor.hpp"
#include "torsion/time/clock.hpp"

namespace torsion {

class real_clock final : public clock_source, public proactor::service {
 public:
  explicit real_clock(proactor& px) : px_(px) {}
  ~real_clock() override;

  // The real clock of this thread's proactor.
  static real_clock& current();

  time_point now() const noexcept override;
  void schedule(timer_entry& e) override;
  void cancel(timer_entry& e) noexcept override;
  std::size_t pending() const noexcept { return q_.size(); }

 private:
  void rearm();
  static void on_kernel_timeout(void* ctx, int res, std::uint32_t flags);
  void sync_work() noexcept;

  proactor& px_;
  timer_queue q_;
  std::uint64_t armed_ud_ = 0;
  time_point armed_for_{};
  __kernel_timespec pending_ts_{};
  bool counted_ = false;
};

}  // namespace torsion
