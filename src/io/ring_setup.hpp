#pragma once
#include <liburing.h>

#include <algorithm>
#include <bit>

#include "torsion/core/result.hpp"
#include "torsion/io/proactor.hpp"

namespace torsion::detail {

struct ring_and_features {
  io_uring ring;
  ring_features features;
};

// The CQ size when proactor_config leaves it 0: the kernel's maximum (IORING_MAX_CQ_ENTRIES).
inline constexpr unsigned default_cq_entries = 65536;

// Create a ring with the fastest flags the kernel accepts, and probe what it supports.
result<ring_and_features> setup_ring(const proactor_config& cfg);

// CQ entries for operations (half of them headroom for cancels and linked timeouts). Each open
// connection reading with read_some keeps one operation in flight, so by default the cap is large
// (16384 in flight; the CQ is then 64 Ki entries, 1 MiB): a smaller one left the newest of a few
// hundred idle connections waiting for capacity that the others never freed.
inline unsigned op_cq_entries(const proactor_config& cfg) noexcept { return cfg.cq_entries ? cfg.cq_entries : 32768; }

// CQ entries set aside for multishot recv completions: one per receive buffer.
inline unsigned buffer_cq_entries(const proactor_config& cfg) noexcept {
  return std::bit_ceil(std::clamp(cfg.recv_buffers, 1u, 32768u));  // as buffer_ring rounds it
}

// Map an io_uring_setup errno to the error that names its cause and fix.
std::error_code setup_error(int err) noexcept;

}  // namespace torsion::detail
