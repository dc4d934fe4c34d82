#pragma once
// The proactor: one io_uring per thread. It owns the operation slots, submits SQEs in batches (one
// io_uring_enter per loop turn), reaps CQEs and resumes the coroutines waiting on them.
//
// Invariants it keeps (see the architecture note):
//  - an operation's slot and everything its SQE points to live until the final CQE;
//  - user_data = slot index | generation << 32, so a late CQE never reaches a reused slot;
//  - in-flight operations never exceed half the CQ; the rest wait in a queue, and the other half
//    is headroom for cancel requests, so the CQ cannot overflow;
//  - one thread, no locks on the hot path; post_from_any_thread is the only thread-safe entry.
#include <liburing.h>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <typeindex>
#include <vector>

#include "torsion/core/result.hpp"
#include "torsion/core/scheduler.hpp"
#include "torsion/core/sync_wait.hpp"
#include "torsion/core/task.hpp"
#include "torsion/io/detail/op_slot.hpp"

namespace torsion {

struct proactor_config {
  unsigned sq_entries = 256;
  // CQ entries for operations, half of them the cap on operations in flight (0: 32768, so 16384
  // reads can be pending at once); recv_buffers more are added for multishot receives.
  unsigned cq_entries = 0;
  bool try_defer_taskrun = true;  // SINGLE_ISSUER | DEFER_TASKRUN, falling back when refused
  bool force_async_abandon = false;  // tests: skip IORING_REGISTER_SYNC_CANCEL

  // The provided-buffer ring behind tcp_stream::receive(), created on first use: recv_buffers
  // (rounded up to a power of two) of recv_buffer_size bytes. The CQ gets recv_buffers extra
  // entries, since every buffer can produce one multishot completion. See buffer_ring.hpp.
  // Why 1024 x 16 KiB: an echo server holds a buffer per connection while it writes it back, so
  // the count covers hundreds of busy connections without ENOBUFS; each buffer costs one recv
  // and one completion, so bulk transfers want them large (BM_bulk_receive: 16 KiB moves ~25%
  // more per second than 4 KiB); and memory is only resident where the kernel wrote, so small
  // messages touch one page per buffer (4 MiB in all), whatever the size. The raw liburing
  // baseline in bench/baselines uses the same shape.
  unsigned recv_buffers = 1024;
  unsigned recv_buffer_size = 16384;
  // Buffers a stream may hold delivered but not yet taken before its multishot recv is paused.
  unsigned recv_queue_limit = 8;
  // false: single-shot recvs into pool buffers, the path for kernels without provided-buffer rings.
  bool use_buffer_ring = true;
};

// What the kernel accepted, probed once at start-up.
struct ring_features {
  unsigned setup_flags = 0;
  bool single_issuer = false;
  bool defer_taskrun = false;
  bool coop_taskrun = false;
  bool ext_arg = false;
  bool fast_poll = false;
  bool multishot_accept = false;
  bool recv_multishot = false;
  bool sync_cancel = false;
  bool send_zc = false;
  bool buffer_ring = false;        // known once receive_buffers() has been created
  bool recv_multishot_cap = true;  // multishot recv takes a byte cap; cleared when refused
  unsigned sq_entries = 0;
  unsigned cq_entries = 0;
};

class buffer_ring;

namespace detail {
class io_awaiter_base;
}

class proactor final : public scheduler {
 public:
  // A long-lived helper attached to one proactor (timers, resolver); created on first use.
  class service {
   public:
    virtual ~service() = default;
  };

  static result<std::unique_ptr<proactor>> create(const proactor_config& cfg = {});
  // Throws std::system_error carrying the same error code as create().
  explicit proactor(const proactor_config& cfg = {});
  proactor(const proactor&) = delete;
  proactor& operator=(const proactor&) = delete;
  ~proactor() override;

  // This thread's proactor (the one most recently made current on it), or null.
  static proactor* current() noexcept;
  // The same, for constructors that default to it: throws std::system_error with
  // errc::invalid_state when this thread has no proactor (never a null dereference).
  static proactor& current_or_throw();

  // Make this proactor current for the duration of the call and drive `t` to completion.
  template <class T>
  T run(task<T> t) {
    current_scope scope(*this);
    return sync_wait(std::move(t));
  }

  void run_once() override;
  void post(std::coroutine_handle<> h) override;
  // Thread-safe: run `fn` on this proactor's thread on a later loop turn.
  void post_from_any_thread(std::function<void()> fn);

  const ring_features& features() const noexcept { return features_; }
  std::size_t in_flight() const noexcept { return user_in_flight_; }
  std::size_t waiting_for_capacity() const noexcept { return waiting_count_; }
  std::size_t capacity() const noexcept { return op_capacity_; }
  std::uint64_t stale_cqes() const noexcept { return stale_cqes_; }
  std::uint64_t submit_calls() const noexcept { return submit_calls_; }
  // Cancel-by-descriptor requests that reached the kernel (cancel_fd with something in flight).
  std::uint64_t fd_cancels() const noexcept { return fd_cancels_; }
  // The kernel's view of CQ overflow, for tests and diagnostics (both stay 0/false while the
  // capacity cap holds): completions it dropped (cq.koverflow), and whether it is holding back
  // completions that did not fit in the CQ (IORING_SQ_CQ_OVERFLOW).
  std::uint32_t cq_dropped() const noexcept { return IO_URING_READ_ONCE(*ring_.cq.koverflow); }
  bool cq_overflow_pending() const noexcept { return io_uring_cq_has_overflow(&ring_); }
  const proactor_config& config() const noexcept { return cfg_; }
  // The receive buffers (created on first use).
  buffer_ring& receive_buffers();
  void disable_recv_multishot_cap() noexcept { features_.recv_multishot_cap = false; }
  bool on_owner_thread() const noexcept;

  template <class S>
  S& use_service() {
    for (auto& [type, ptr] : services_)
      if (type == std::type_index(typeid(S))) return static_cast<S&>(*ptr);
    auto p = std::make_unique<S>(*this);
    S& ref = *p;
    services_.emplace_back(std::type_index(typeid(S)), std::move(p));
    return ref;
  }

  // Work the proactor must wait for although it is not an io_uring operation (a resolver thread,
  // say). While any is outstanding, a suspended sync_wait keeps waiting instead of reporting a
  // deadlock.
  void add_external_work() noexcept { ++external_pending_; }
  void remove_external_work() noexcept { --external_pending_; }

  // ---- Interface for awaitables and services (not for applications) ----
  // Start a callback-driven operation (multishot accept/recv, internal reads). Returns its
  // user_data, or nothing when the ring is at capacity. `prep` may set slot.fd (the socket it
  // works on, for has_ops_on) and slot.buffer_id (a pool buffer it owns until its final CQE).
  // Internal operations do not count as work a task waits for; uncapped ones (multishot recvs,
  // whose completions are bounded by the buffer ring the CQ is sized for) skip the capacity check.
  template <class Prep>
  std::uint64_t start_callback_op(Prep&& prep, detail::op_slot::cqe_fn fn, void* ctx, bool multishot,
                                  unsigned weight = 1, bool internal = false, bool capped = true) {
    const std::uint32_t idx = acquire_slot(weight, internal, capped);
    if (idx == detail::npos32) return 0;
    detail::op_slot& s = slot(idx);
    s.on_cqe = fn;
    s.ctx = ctx;
    s.multishot = multishot;
    s.pending_cqes = 1;
    io_uring_sqe* sqe = get_sqe();
    prep(sqe, s);
    track_fd(s);
    io_uring_sqe_set_data64(sqe, detail::make_user_data(idx, s.generation));
    return detail::make_user_data(idx, s.generation);
  }
  // Ask the kernel to cancel the operation (no-op if it already finished).
  void cancel_op(std::uint64_t user_data);
  // Its owner is gone: never call back; the slot is freed at the final CQE.
  void detach_op(std::uint64_t user_data) noexcept;
  // Its owner is gone and the kernel may be writing into the owner's memory: return only once the
  // kernel can no longer touch it.
  void abandon_op(std::uint64_t user_data);
  // Cancel every operation on `fd` (before closing it: a pending recv on a closed socket would
  // otherwise never complete). Their owners see operation_canceled.
  void cancel_fd(int fd) noexcept;
  // Cancel and detach in one: the caller will not look at it again, nor need cancel_fd for it.
  void cancel_and_detach(std::uint64_t user_data) noexcept;
  // Whether any submitted operation on `fd` has not reached its final CQE (close() skips
  // cancel_fd, a system call, when none has).
  bool has_ops_on(int fd) const noexcept {
    return fd >= 0 && static_cast<std::size_t>(fd) < fd_ops_.size() && fd_ops_[fd] != 0;
  }
  void track_fd(detail::op_slot& s) {
    if (s.fd < 0) return;
    if (static_cast<std::size_t>(s.fd) >= fd_ops_.size()) fd_ops_.resize(static_cast<std::size_t>(s.fd) * 2 + 64);
    ++fd_ops_[s.fd];
  }

  std::uint32_t acquire_slot(unsigned weight, bool internal = false, bool capped = true);
  detail::op_slot& slot(std::uint32_t idx) noexcept { return slots_[idx >> chunk_shift][idx & chunk_mask]; }
  io_uring_sqe* get_sqe();
  // Make room for n SQEs in the same submission batch: an operation and its linked timeout must not
  // be split by a flush (the kernel would run the operation unlinked and reject the lone timeout).
  void reserve_sqes(unsigned n) {
    if (io_uring_sq_space_left(&ring_) < n) flush_submissions();
  }
  void enqueue_waiting(detail::io_awaiter_base* a) noexcept;
  void remove_waiting(detail::io_awaiter_base* a) noexcept;
  // Resume now, or on the next loop turn while the proactor is reaping inside a destructor.
  void resume(std::coroutine_handle<> h);
  void flush_submissions();

 private:
  struct current_scope {
    explicit current_scope(proactor& p) : prev(exchange_current(&p)), prev_px(set_current_proactor(&p)) {}
    ~current_scope() {
      exchange_current(prev);
      set_current_proactor(prev_px);
    }
    scheduler* prev;
    proactor* prev_px;
  };
  static proactor* set_current_proactor(proactor* p) noexcept;

  struct private_tag {};

 public:
  proactor(private_tag, io_uring ring, ring_features f, const proactor_config& cfg);

 private:
  static constexpr unsigned chunk_shift = 8;
  static constexpr unsigned chunk_mask = (1u << chunk_shift) - 1;
  using slot_chunk = std::unique_ptr<detail::op_slot[]>;

  void init_after_setup();
  void release_slot(std::uint32_t idx) noexcept;
  // A completion nobody will look at carried a ring buffer, or its slot owned a pool buffer.
  void recycle_buffers(detail::op_slot& s, std::uint32_t flags) noexcept;
  void reap();
  // Reap with resumptions queued for the next loop turn instead of run inline.
  void reap_deferred();
  void dispatch(std::uint64_t ud, int res, std::uint32_t flags);
  void submit_waiting();
  bool run_ready();
  void arm_wakeup();
  void drain_remote();
  void retry_cancels();
  void shutdown_ring() noexcept;

  io_uring ring_{};
  ring_features features_{};
  proactor_config cfg_{};
  std::vector<slot_chunk> slots_;
  std::uint32_t free_head_ = detail::npos32;
  std::uint32_t slot_count_ = 0;
  std::size_t op_capacity_ = 0;
  std::size_t units_in_flight_ = 0;       // capacity units held by capped operations
  std::size_t open_ended_in_flight_ = 0;  // the same for uncapped ones
  static constexpr std::uint16_t internal_bit = 0x8000, uncapped_bit = 0x4000, weight_mask = 0x3fff;
  std::size_t user_in_flight_ = 0;
  std::size_t external_pending_ = 0;
  std::uint64_t stale_cqes_ = 0;
  std::uint64_t submit_calls_ = 0;
  std::uint64_t fd_cancels_ = 0;
  detail::io_awaiter_base* waiting_head_ = nullptr;
  detail::io_awaiter_base* waiting_tail_ = nullptr;
  std::size_t waiting_count_ = 0;
  std::vector<std::uint64_t> pending_cancels_;
  std::vector<std::coroutine_handle<>> ready_, running_;
  int deferring_ = 0;
  bool initialized_ = false;

  // Cross-thread posting: a mutex-protected queue plus an eventfd read kept armed on the ring.
  int wake_fd_ = -1;
  std::uint64_t wake_buf_ = 0;
  std::mutex remote_mutex_;
  std::vector<std::function<void()>> remote_;
  std::vector<std::function<void()>> remote_running_;
  std::uint64_t owner_thread_ = 0;

  std::vector<std::pair<std::type_index, std::unique_ptr<service>>> services_;
  std::vector<std::uint32_t> fd_ops_;  // submitted operations per fd, until their final CQE
  std::unique_ptr<buffer_ring> buffers_;
};

}  // namespace torsion
