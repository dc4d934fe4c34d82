#pragma once
// What the connector and its retry engine report, in the order they happen. Both programming styles
// and the tests observe the same stream of events.
#include <optional>
#include <system_error>

#include "torsion/time/clock.hpp"

namespace torsion {

enum class connector_event_kind { attempt, connected, failed, lost, retry, gave_up };

struct connector_event {
  connector_event_kind kind;
  clock_source::time_point at;
  std::error_code reason{};                       // failed, lost
  std::optional<clock_source::duration> delay{};  // retry
};

const char* to_string(connector_event_kind k) noexcept;

// The short name of an error code as the examples print it: "connection_refused", "timed_out",
// "connection_done", ... for Torsion's codes; the errno name ("ECONNRESET") for the kernel's.
std::string error_code_name(const std::error_code& ec);

}  // namespace torsion
