#pragma once
// The proactor's receive buffers: `count` buffers of `size` bytes in one mapping. Where the kernel
// supports provided-buffer rings (IORING_REGISTER_PBUF_RING, 5.19) they are registered as buffer
// group `group_id` and the kernel picks one per multishot recv completion; otherwise they are a
// plain pool the receiver takes from itself before a single-shot recv. Either way a buffer handed
// to the user is a received_buffer, which gives it back on destruction, and streams that found no
// buffer (ENOBUFS) wait here to be re-armed when one comes back - never on a timer.
#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace torsion {

class buffer_ring;

// A chunk of received bytes that lives in one of the proactor's ring buffers, lent to the user
// without copying. Move-only; destroying it (or release()) returns the buffer to the ring. Every
// received_buffer must be released before its proactor is destroyed.
class received_buffer {
 public:
  received_buffer() noexcept = default;
  received_buffer(buffer_ring* ring, std::uint16_t id, std::uint32_t len) noexcept : ring_(ring), id_(id), len_(len) {}
  received_buffer(received_buffer&& o) noexcept
      : ring_(std::exchange(o.ring_, nullptr)), id_(o.id_), len_(std::exchange(o.len_, 0)) {}
  received_buffer& operator=(received_buffer&& o) noexcept {
    if (this != &o) {
      release();
      ring_ = std::exchange(o.ring_, nullptr);
      id_ = o.id_;
      len_ = std::exchange(o.len_, 0);
    }
    return *this;
  }
  received_buffer(const received_buffer&) = delete;
  received_buffer& operator=(const received_buffer&) = delete;
  ~received_buffer() { release(); }

  // The bytes are the holder's to read or modify until release.
  std::byte* data() const noexcept;
  std::size_t size() const noexcept { return len_; }
  bool empty() const noexcept { return len_ == 0; }
  std::span<std::byte> bytes() const noexcept { return {data(), len_}; }
  std::string_view view() const noexcept { return {reinterpret_cast<const char*>(data()), len_}; }
  // Give the buffer back to the ring now (idempotent).
  void release() noexcept;

 private:
  buffer_ring* ring_ = nullptr;
  std::uint16_t id_ = 0;
  std::uint32_t len_ = 0;
};

class buffer_ring {
 public:
  static constexpr std::uint16_t group_id = 0;
  static constexpr std::uint16_t none = 0xffff;

  // Something waiting for a buffer to come back (a receiver after ENOBUFS). Intrusive: no
  // allocation to wait.
  struct waiter {
    virtual void on_buffer_available() noexcept = 0;
    waiter* next_waiting = nullptr;
    waiter* prev_waiting = nullptr;
    bool waiting = false;

   protected:
    ~waiter() = default;
  };

  // Registers with `ring` when `kernel` is true and the kernel accepts it; `count` is rounded up to
  // a power of two (at most 32768).
  buffer_ring(io_uring& ring, unsigned count, unsigned size, bool kernel);
  buffer_ring(const buffer_ring&) = delete;
  buffer_ring& operator=(const buffer_ring&) = delete;
  ~buffer_ring();

  // The kernel selects buffers (IOSQE_BUFFER_SELECT with group_id); false: take() them yourself.
  bool kernel_selected() const noexcept { return br_ != nullptr; }
  unsigned count() const noexcept { return count_; }
  unsigned buffer_size() const noexcept { return size_; }
  // Buffers neither lent out nor reported by a completion: what the kernel (or take()) can use.
  unsigned available() const noexcept { return count_ - out_; }
  std::byte* data(std::uint16_t id) const noexcept { return base_ + std::size_t{id} * size_; }

  // Kernel mode: a completion carried buffer `id`, so it left the ring.
  void note_taken() noexcept { ++out_; }
  // Pool mode: a free buffer, or `none`.
  std::uint16_t take() noexcept;
  // Back to the ring (or pool); wakes one waiter.
  void give_back(std::uint16_t id) noexcept;

  void wait_for_buffer(waiter* w) noexcept;
  // How often a receiver found no buffer and had to wait for one (tests, tuning).
  std::uint64_t starved() const noexcept { return starved_; }
  void cancel_wait(waiter* w) noexcept;

  // Per-buffer links so a receiver can queue delivered buffers without allocating.
  std::uint16_t& next(std::uint16_t id) noexcept { return next_[id]; }
  std::uint32_t& length(std::uint16_t id) noexcept { return len_[id]; }

 private:
  void add_to_kernel(std::uint16_t id) noexcept;

  io_uring* ring_;
  unsigned count_;
  unsigned size_;
  unsigned out_ = 0;
  std::uint64_t starved_ = 0;
  std::byte* base_ = nullptr;
  std::size_t map_len_ = 0;
  io_uring_buf_ring* br_ = nullptr;
  std::size_t br_len_ = 0;
  std::vector<std::uint16_t> free_;  // pool mode only
  std::vector<std::uint16_t> next_;
  std::vector<std::uint32_t> len_;
  waiter* wait_head_ = nullptr;
  waiter* wait_tail_ = nullptr;
};

inline std::byte* received_buffer::data() const noexcept { return ring_ ? ring_->data(id_) : nullptr; }

inline void received_buffer::release() noexcept {
  if (buffer_ring* r = std::exchange(ring_, nullptr)) {
    len_ = 0;
    r->give_back(id_);
  }
}

}  // namespace torsion
