#pragma once
// One in-flight io_uring operation as the kernel sees it. The slot, not the awaiter, owns
// everything an SQE points at (socket address, msghdr, iovecs, timespecs) and lives until the
// operation's final CQE, so an awaiter that goes away early can never leave the kernel a dangling
// pointer.
#include <linux/time_types.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>

namespace torsion::detail {

class io_awaiter_base;

inline constexpr std::uint32_t npos32 = 0xffffffffu;
inline constexpr std::uint64_t link_bit = 1ull << 31;  // set in user_data of a linked timeout's CQE
inline constexpr std::uint64_t index_mask = link_bit - 1;
inline constexpr std::uint64_t ignore_user_data = ~0ull;  // CQEs nobody waits for (cancel requests)
inline constexpr unsigned max_iov = 16;

inline std::uint64_t make_user_data(std::uint32_t index, std::uint32_t generation) noexcept {
  return (std::uint64_t{generation} << 32) | index;
}

struct op_slot {
  using cqe_fn = void (*)(void* ctx, int res, std::uint32_t flags);

  std::uint32_t generation = 1;
  std::uint32_t next_free = npos32;
  std::uint16_t pending_cqes = 0;  // CQEs still expected before the slot may be reused
  std::uint16_t weight = 0;        // completion-queue capacity units it holds
  bool in_use = false;
  bool detached = false;  // nobody will look at the outcome; free at the final CQE
  bool cancel_requested = false;
  bool timed_out = false;  // its linked timeout fired
  bool multishot = false;
  int res = 0;
  std::uint32_t flags = 0;
  int fd = -1;                       // the socket it works on, if the submitter said so
  std::uint16_t buffer_id = 0xffff;  // a pool buffer it reads into, returned if it ends detached

  io_awaiter_base* owner = nullptr;  // a coroutine awaiting it, or
  cqe_fn on_cqe = nullptr;           // a callback (multishot and internal operations)
  void* ctx = nullptr;

  struct msg_storage {
    msghdr msg;
    iovec iov[max_iov];
  };
  union {
    sockaddr_storage addr;
    msg_storage vec;
    std::uint64_t u64;
  };
  socklen_t addrlen = 0;
  __kernel_timespec ts{};
  __kernel_timespec link_ts{};

  op_slot() : addr{} {}
};

}  // namespace torsion::detail
