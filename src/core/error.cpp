#include "torsion/core/error.hpp"

namespace torsion {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "torsion"; }

  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::operation_canceled: return "operation canceled";
      case errc::timed_out: return "operation timed out";
      case errc::connection_done: return "connection was closed cleanly";
      case errc::connection_lost: return "connection to the other side was lost in a non-clean fashion";
      case errc::connection_aborted: return "connection was aborted locally";
      case errc::connection_refused: return "connection was refused by the other side";
      case errc::dns_lookup_failed: return "DNS lookup failed";
      case errc::netstring_parse_error: return "the received netstring is malformed";
      case errc::length_limit_exceeded: return "the received length prefix exceeds the configured maximum";
      case errc::string_too_long: return "the string is too long for the length prefix";
      case errc::line_too_long: return "line is longer than the configured maximum";
      case errc::user_cancelled: return "user aborted the connection attempt";
      case errc::connect_bind_failed: return "could not bind the client socket to the requested address";
      case errc::cannot_listen: return "could not listen on the requested address";
      case errc::application_error: return "application callback raised an exception";
      case errc::invalid_address: return "malformed IP address";
      case errc::invalid_port: return "port out of range (0-65535)";
      case errc::invalid_state: return "operation not valid in the current state";
      case errc::not_connecting: return "the connector was not connecting";
      case errc::self_connect: return "socket connected to itself (source and destination coincide)";
      case errc::no_protocol: return "the factory built no protocol for this connection";
      case errc::io_uring_disabled:
        return "io_uring is not permitted (EPERM): the sysctl kernel.io_uring_disabled is set or a seccomp "
               "profile blocks io_uring_setup; fix: `sysctl -w kernel.io_uring_disabled=0` (as root) or run the "
               "container with a seccomp profile that allows io_uring_setup/io_uring_enter/io_uring_register";
      case errc::io_uring_unsupported:
        return "io_uring is not available (ENOSYS): the kernel is older than 5.1 or was built without "
               "CONFIG_IO_URING; fix: run on Linux 6.1 or newer with io_uring enabled";
      case errc::io_uring_memlock:
        return "io_uring could not lock memory for its rings (ENOMEM): RLIMIT_MEMLOCK is too low; fix: raise it "
               "(`ulimit -l unlimited`, or LimitMEMLOCK= in systemd) or use Linux 5.12+, which does not charge it";
      case errc::resource_exhausted: return "a resource limit was reached";
    }
    return "unknown torsion error";
  }

  // Let torsion codes compare equal to the errno conditions users already test for.
  std::error_condition default_error_condition(int v) const noexcept override {
    switch (static_cast<errc>(v)) {
      case errc::operation_canceled: return std::errc::operation_canceled;
      case errc::timed_out: return std::errc::timed_out;
      case errc::connection_refused: return std::errc::connection_refused;
      case errc::connection_aborted: return std::errc::connection_aborted;
      case errc::invalid_address:
      case errc::invalid_port: return std::errc::invalid_argument;
      default: return {v, *this};
    }
  }
};

}  // namespace

const std::error_category& torsion_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace torsion
