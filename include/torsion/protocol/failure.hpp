#pragma once
// What connectionLost and the factory callbacks receive: Twisted's Failure, typed. It carries a
// Torsion error code (connection_done, connection_lost, connection_aborted, connection_refused,
// timed_out, user_cancelled, dns_lookup_failed, application_error, ...), the errno behind it when
// there was one, and the exception when a callback threw (spec §7.2 item 1 and 2).
#include <exception>
#include <string>
#include <system_error>

#include "torsion/core/error.hpp"

namespace torsion::twisted {

class Failure {
 public:
  Failure() = default;
  explicit Failure(std::error_code code, int os_error = 0, std::exception_ptr exception = nullptr)
      : code_(code), os_error_(os_error), exception_(std::move(exception)) {}
  Failure(errc e) : code_(make_error_code(e)) {}  // NOLINT: implicit, like raising ConnectionDone

  const std::error_code& code() const noexcept { return code_; }
  int osError() const noexcept { return os_error_; }
  const std::exception_ptr& exception() const noexcept { return exception_; }

  // ConnectionDone, as opposed to ConnectionLost and everything else.
  bool is_clean() const noexcept { return code_ == errc::connection_done; }
  // Twisted's reason.check(ConnectionDone): is it this kind of failure?
  bool check(errc e) const noexcept { return code_ == e; }
  std::string getErrorMessage() const;

 private:
  std::error_code code_ = make_error_code(errc::connection_done);
  int os_error_ = 0;
  std::exception_ptr exception_;
};

// Twisted's module constant: the default reason of connectionLost.
inline const Failure connectionDone{errc::connection_done};

}  // namespace torsion::twisted
