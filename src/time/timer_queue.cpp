#include "torsion/time/timer_queue.hpp"

namespace torsion {

void timer_queue::push(timer_entry& e) {
  e.seq = next_seq_++;
  heap_.push_back(&e);
  e.heap_index = heap_.size() - 1;
  sift_up(e.heap_index);
}

void timer_queue::erase(timer_entry& e) noexcept {
  if (!e.scheduled()) return;
  const std::size_t i = e.heap_index;
  timer_entry* last = heap_.back();
  heap_.pop_back();
  e.heap_index = static_cast<std::size_t>(-1);
  if (i == heap_.size()) return;
  place(i, last);
  sift_up(i);
  sift_down(last->heap_index);
}

timer_entry* timer_queue::pop() noexcept {
  if (heap_.empty()) return nullptr;
  timer_entry* e = heap_.front();
  erase(*e);
  return e;
}

void timer_queue::sift_up(std::size_t i) noexcept {
  timer_entry* e = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!before(e, heap_[parent])) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, e);
}

void timer_queue::sift_down(std::size_t i) noexcept {
  timer_entry* e = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
    if (!before(heap_[child], e)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, e);
}

}  // namespace torsion
