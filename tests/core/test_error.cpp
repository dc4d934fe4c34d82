#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <system_error>

#include "torsion/core/error.hpp"
#include "torsion/core/result.hpp"

using torsion::errc;

namespace {

// Every enumerator, in declaration order; kept in step with error.hpp (first and last are checked below).
constexpr errc all_codes[] = {
    errc::operation_canceled, errc::timed_out,           errc::connection_done,   errc::connection_lost,
    errc::connection_aborted, errc::connection_refused,  errc::dns_lookup_failed, errc::line_too_long,
    errc::user_cancelled,     errc::connect_bind_failed, errc::cannot_listen,     errc::application_error,
    errc::invalid_address,    errc::invalid_port,        errc::invalid_state,     errc::not_connecting,
    errc::self_connect,       errc::no_protocol,         errc::io_uring_disabled, errc::io_uring_unsupported,
    errc::io_uring_memlock,   errc::resource_exhausted,  errc::netstring_parse_error, errc::length_limit_exceeded,
    errc::string_too_long,
};

std::string message_of(errc e) { return std::error_code(e).message(); }

}  // namespace

TEST_CASE("errc values are contiguous from 1 and the list above covers them all", "[core][error]") {
  // If someone appends an enumerator, this catches a stale all_codes[] rather than silently skipping it.
  for (std::size_t i = 0; i < std::size(all_codes); ++i)
    CHECK(static_cast<int>(all_codes[i]) == static_cast<int>(i) + 1);
  const int past_end = static_cast<int>(std::size(all_codes)) + 1;
  CHECK(torsion::torsion_category().message(past_end) == "unknown torsion error");
}

TEST_CASE("every errc has a non-empty and distinct message", "[core][error]") {
  std::set<std::string> seen;
  for (errc e : all_codes) {
    const std::string m = message_of(e);
    INFO("errc " << static_cast<int>(e) << ": " << m);
    CHECK_FALSE(m.empty());
    CHECK(m != "unknown torsion error");
    CHECK(seen.insert(m).second);
  }
  CHECK(seen.size() == std::size(all_codes));
  // Value 0 is "success" by std::error_code convention and is not one of ours.
  CHECK(torsion::torsion_category().message(0) == "unknown torsion error");
}

TEST_CASE("the category is named torsion and codes carry it", "[core][error]") {
  CHECK(std::string(torsion::torsion_category().name()) == "torsion");
  const std::error_code ec = errc::connection_lost;  // implicit through is_error_code_enum
  CHECK(&ec.category() == &torsion::torsion_category());
  CHECK(ec.value() == static_cast<int>(errc::connection_lost));
  CHECK(ec == errc::connection_lost);
  CHECK(ec != errc::connection_done);
  CHECK(torsion::make_error_code(errc::timed_out) == errc::timed_out);
  CHECK(static_cast<bool>(ec));
}

TEST_CASE("torsion codes compare equal to the matching std::errc conditions", "[core][error]") {
  CHECK(std::error_code(errc::timed_out) == std::errc::timed_out);
  CHECK(std::error_code(errc::connection_refused) == std::errc::connection_refused);
  CHECK(std::error_code(errc::operation_canceled) == std::errc::operation_canceled);
  CHECK(std::error_code(errc::connection_aborted) == std::errc::connection_aborted);
  CHECK(std::error_code(errc::invalid_address) == std::errc::invalid_argument);
  CHECK(std::error_code(errc::invalid_port) == std::errc::invalid_argument);

  // ... and not to unrelated ones.
  CHECK(std::error_code(errc::timed_out) != std::errc::operation_canceled);
  CHECK(std::error_code(errc::operation_canceled) != std::errc::timed_out);
  CHECK(std::error_code(errc::connection_done) != std::errc::connection_reset);

  // The errno the kernel reports for the same condition is still a different code, but the same condition.
  const std::error_code kernel = torsion::errno_code(ETIMEDOUT);
  CHECK(kernel != std::error_code(errc::timed_out));
  CHECK(kernel.default_error_condition() == std::error_code(errc::timed_out).default_error_condition());
}

TEST_CASE("errno_code keeps the kernel's errno in the system category", "[core][error]") {
  const std::error_code ec = torsion::errno_code(ECONNRESET);
  CHECK(&ec.category() == &std::system_category());
  CHECK(ec.value() == ECONNRESET);
  CHECK(ec == std::errc::connection_reset);
}

TEST_CASE("io_uring failure messages name the cause and the fix", "[core][error]") {
  const std::string disabled = message_of(errc::io_uring_disabled);
  CHECK_THAT(disabled, Catch::Contains("kernel.io_uring_disabled"));
  CHECK_THAT(disabled, Catch::Contains("EPERM"));
  CHECK_THAT(disabled, Catch::Contains("seccomp"));
  CHECK_THAT(disabled, Catch::Contains("fix"));

  const std::string unsupported = message_of(errc::io_uring_unsupported);
  CHECK_THAT(unsupported, Catch::Contains("ENOSYS"));
  CHECK_THAT(unsupported, Catch::Contains("CONFIG_IO_URING"));
  CHECK_THAT(unsupported, Catch::Contains("fix"));

  const std::string memlock = message_of(errc::io_uring_memlock);
  CHECK_THAT(memlock, Catch::Contains("RLIMIT_MEMLOCK"));
  CHECK_THAT(memlock, Catch::Contains("ulimit -l"));
  CHECK_THAT(memlock, Catch::Contains("fix"));
}

TEST_CASE("result<T> carries a value or a torsion error code", "[core][error]") {
  const torsion::result<int> ok = 7;
  REQUIRE(ok.has_value());
  CHECK(ok.value() == 7);

  const torsion::result<int> bad = torsion::failure(errc::timed_out);
  REQUIRE(bad.has_error());
  CHECK(bad.error() == errc::timed_out);
  CHECK(bad.error() == std::errc::timed_out);

  const torsion::result<void> bad_void = torsion::failure(torsion::errno_code(EPIPE));
  REQUIRE_FALSE(bad_void);
  CHECK(bad_void.error() == std::errc::broken_pipe);

  auto add_one = [](torsion::result<int> in) -> torsion::result<int> {
    TORSION_TRY(auto v, in);
    return v + 1;
  };
  CHECK(add_one(ok).value() == 8);
  CHECK(add_one(bad).error() == errc::timed_out);
}
