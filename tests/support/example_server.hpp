#pragma once
// Example programs run as child processes: where their binaries are, and the endpoint a server
// announces with its "listening on 127.0.0.1:PORT" line.
#include <chrono>
#include <optional>
#include <regex>
#include <string>

#include "support/process.hpp"
#include "torsion/net/address.hpp"

namespace torsion_test {

inline std::string example_path(const char* name) { return std::string(TORSION_EXAMPLES_DIR) + "/" + name; }

// Reads the server's first line; nothing if it is not "listening on 127.0.0.1:PORT" within `limit`.
inline std::optional<torsion::endpoint> listening_endpoint(child_process& server,
                                                           std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto line = server.read_line(limit);
  std::smatch m;
  if (!line || !std::regex_match(*line, m, std::regex(R"(listening on 127\.0\.0\.1:(\d+))"))) return std::nullopt;
  return torsion::endpoint(torsion::ip_address::loopback_v4(), static_cast<std::uint16_t>(std::stoi(m[1])));
}

}  // namespace torsion_test
