#pragma once
// Torsion's own error category. Kernel failures keep their errno (std::system_category);
// these codes name what the framework itself decided (cancelled, timed out, closed cleanly...).
#include <string>
#include <system_error>

namespace torsion {

enum class errc : int {
  operation_canceled = 1,
  timed_out,
  connection_done,
  connection_lost,
  connection_aborted,
  connection_refused,
  dns_lookup_failed,
  line_too_long,
  user_cancelled,
  connect_bind_failed,
  cannot_listen,
  application_error,
  invalid_address,
  invalid_port,
  invalid_state,
  not_connecting,
  self_connect,
  no_protocol,
  io_uring_disabled,
  io_uring_unsupported,
  io_uring_memlock,
  resource_exhausted,
  netstring_parse_error,
  length_limit_exceeded,
  string_too_long,
};

const std::error_category& torsion_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), torsion_category()};
}

// An errno value as an error_code, the way the kernel reported it.
inline std::error_code errno_code(int err) noexcept { return {err, std::system_category()}; }

}  // namespace torsion

template <>
struct std::is_error_code_enum<torsion::errc> : std::true_type {};
