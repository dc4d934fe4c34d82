#include "torsion/io/buffer_ring.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <new>

namespace torsion {
namespace {

void* map_anonymous(std::size_t len) {
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

}  // namespace

buffer_ring::buffer_ring(io_uring& ring, unsigned count, unsigned size, bool kernel)
    : ring_(&ring), count_(std::bit_ceil(std::clamp(count, 1u, 32768u))), size_(std::max(size, 1u)) {
  // One mapping: pages the kernel never writes into never become resident.
  map_len_ = std::size_t{count_} * size_;
  base_ = static_cast<std::byte*>(map_anonymous(map_len_));
  next_.assign(count_, none);
  len_.assign(count_, 0);
  if (kernel) {
    br_len_ = count_ * sizeof(io_uring_buf);
    br_ = static_cast<io_uring_buf_ring*>(map_anonymous(br_len_));
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(br_);
    reg.ring_entries = count_;
    reg.bgid = group_id;
    if (io_uring_register_buf_ring(ring_, &reg, 0) != 0) {
      ::munmap(br_, br_len_);
      br_ = nullptr;  // the kernel lacks IORING_REGISTER_PBUF_RING: pool mode
    }
  }
  if (br_) {
    io_uring_buf_ring_init(br_);
    const int mask = io_uring_buf_ring_mask(count_);
    for (unsigned i = 0; i < count_; ++i)
      io_uring_buf_ring_add(br_, data(static_cast<std::uint16_t>(i)), size_, static_cast<std::uint16_t>(i), mask,
                            static_cast<int>(i));
    io_uring_buf_ring_advance(br_, static_cast<int>(count_));
  } else {
    free_.reserve(count_);
    for (unsigned i = count_; i-- > 0;) free_.push_back(static_cast<std::uint16_t>(i));
  }
}

buffer_ring::~buffer_ring() {
  if (br_) {
    io_uring_unregister_buf_ring(ring_, group_id);
    ::munmap(br_, br_len_);
  }
  ::munmap(base_, map_len_);
}

std::uint16_t buffer_ring::take() noexcept {
  if (free_.empty()) return none;
  const std::uint16_t id = free_.back();
  free_.pop_back();
  ++out_;
  return id;
}

void buffer_ring::add_to_kernel(std::uint16_t id) noexcept {
  io_uring_buf_ring_add(br_, data(id), size_, id, io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(br_, 1);
}

void buffer_ring::give_back(std::uint16_t id) noexcept {
  --out_;
  if (br_)
    add_to_kernel(id);
  else
    free_.push_back(id);  // capacity reserved up front: never allocates
  if (waiter* w = wait_head_) {
    cancel_wait(w);
    w->on_buffer_available();
  }
}

void buffer_ring::wait_for_buffer(waiter* w) noexcept {
  if (w->waiting) return;
  ++starved_;
  w->waiting = true;
  w->next_waiting = nullptr;
  w->prev_waiting = wait_tail_;
  if (wait_tail_)
    wait_tail_->next_waiting = w;
  else
    wait_head_ = w;
  wait_tail_ = w;
}

void buffer_ring::cancel_wait(waiter* w) noexcept {
  if (!w->waiting) return;
  if (w->prev_waiting)
    w->prev_waiting->next_waiting = w->next_waiting;
  else
    wait_head_ = w->next_waiting;
  if (w->next_waiting)
    w->next_waiting->prev_waiting = w->prev_waiting;
  else
    wait_tail_ = w->prev_waiting;
  w->next_waiting = w->prev_waiting = nullptr;
  w->waiting = false;
}

}  // namespace torsion
