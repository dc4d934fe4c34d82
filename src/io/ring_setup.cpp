#include "ring_setup.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

namespace torsion::detail {

std::error_code setup_error(int err) noexcept {
  switch (err) {
    case EPERM: return make_error_code(errc::io_uring_disabled);
    case ENOSYS: return make_error_code(errc::io_uring_unsupported);
    case ENOMEM: return make_error_code(errc::io_uring_memlock);
    default: return errno_code(err);
  }
}

namespace {

void probe(io_uring& ring, ring_features& f) {
  f.ext_arg = ring.features & IORING_FEAT_EXT_ARG;
  f.fast_poll = ring.features & IORING_FEAT_FAST_POLL;
  std::unique_ptr<io_uring_probe, void (*)(io_uring_probe*)> p(io_uring_get_probe_ring(&ring), io_uring_free_probe);
  if (p) {
    f.send_zc = io_uring_opcode_supported(p.get(), IORING_OP_SEND_ZC);
    // Multishot accept and recv have no opcode of their own; they arrived with 5.19 and 6.0,
    // the same releases that added SEND_ZC (6.0) and sync cancel (6.0).
    f.multishot_accept = io_uring_opcode_supported(p.get(), IORING_OP_SOCKET);  // 5.19
    f.recv_multishot = f.send_zc;                                                // 6.0
  }
  // Sync cancel with a zero-match key answers -ENOENT where supported, -EINVAL where not.
  io_uring_sync_cancel_reg reg{};
  reg.addr = ~0ull - 1;
  reg.timeout.tv_sec = 0;
  reg.timeout.tv_nsec = 0;
  f.sync_cancel = io_uring_register_sync_cancel(&ring, &reg) == -ENOENT;
}

}  // namespace

result<ring_and_features> setup_ring(const proactor_config& cfg) {
  const unsigned sq = cfg.sq_entries ? cfg.sq_entries : 256;
  const unsigned cq = op_cq_entries(cfg) + buffer_cq_entries(cfg);

  // Fastest first; each is dropped when the kernel answers EINVAL.
  const unsigned base = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
  const unsigned attempts[] = {
      base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
      base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
      base | IORING_SETUP_COOP_TASKRUN,
      base,
      IORING_SETUP_CQSIZE,
  };
  ring_and_features out{};
  int last = -EINVAL;
  for (unsigned flags : attempts) {
    if (!cfg.try_defer_taskrun && (flags & IORING_SETUP_DEFER_TASKRUN)) continue;
    io_uring_params params{};
    params.flags = flags;
    params.cq_entries = cq;
    last = io_uring_queue_init_params(sq, &out.ring, &params);
    if (last == 0) {
      out.features.setup_flags = flags;
      out.features.single_issuer = flags & IORING_SETUP_SINGLE_ISSUER;
      out.features.defer_taskrun = flags & IORING_SETUP_DEFER_TASKRUN;
      out.features.coop_taskrun = flags & IORING_SETUP_COOP_TASKRUN;
      out.features.sq_entries = params.sq_entries;
      out.features.cq_entries = params.cq_entries;
      probe(out.ring, out.features);
      return out;
    }
    if (last != -EINVAL) break;
  }
  return setup_error(-last);
}

}  // namespace torsion::detail
