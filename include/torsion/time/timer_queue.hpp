#pragma once
// An intrusive min-heap of timers ordered by (deadline, insertion sequence), so timers due at the
// same instant fire first-in first-out. Shared by the real clock and the virtual clock.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace torsion {

using clock_duration = std::chrono::nanoseconds;
using clock_time_point = std::chrono::time_point<std::chrono::steady_clock, clock_duration>;

struct timer_entry {
  using fire_fn = void (*)(timer_entry&);
  clock_time_point deadline{};
  std::uint64_t seq = 0;
  std::size_t heap_index = static_cast<std::size_t>(-1);
  fire_fn fire = nullptr;

  bool scheduled() const noexcept { return heap_index != static_cast<std::size_t>(-1); }
};

class timer_queue {
 public:
  void push(timer_entry& e);
  void erase(timer_entry& e) noexcept;
  timer_entry* top() const noexcept { return heap_.empty() ? nullptr : heap_.front(); }
  timer_entry* pop() noexcept;
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }

 private:
  static bool before(const timer_entry* a, const timer_entry* b) noexcept {
    return a->deadline != b->deadline ? a->deadline < b->deadline : a->seq < b->seq;
  }
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
  void place(std::size_t i, timer_entry* e) noexcept {
    heap_[i] = e;
    e->heap_index = i;
  }

  std::vector<timer_entry*> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace torsion
