#pragma once
// The echo load itself: connect N streams, drive them from this thread's proactor for warm-up +
// duration, verify every echoed byte, and measure the window after the warm-up.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <torsion/core/task.hpp>

#include "histogram.hpp"
#include "options.hpp"

namespace torsion_bench {

// Once a second, for the live display.
struct progress_snapshot {
  double elapsed_s = 0;  // since the load started (after connecting)
  bool warming_up = false;
  std::uint64_t round_trips = 0;  // since the load started, warm-up included
  std::uint64_t errors = 0;
  std::uint64_t mismatches = 0;
};
using progress_fn = std::function<void(const progress_snapshot&)>;

struct load_result {
  std::uint64_t round_trips = 0;  // completed inside the measured window
  std::uint64_t mismatches = 0;   // round trips with a wrong byte, whole run
  std::uint64_t errors = 0;       // connections lost, whole run
  std::string first_error;        // what happened to the first connection lost
  bool window_complete = false;   // false when every connection was lost before the end
  std::unique_ptr<latency_histogram> latency = std::make_unique<latency_histogram>();
  std::optional<std::uint64_t> server_cpu_us;  // over the window, with --server-pid
  std::optional<std::uint64_t> cpu_stat_us;    // over the window, with --cpu-stat
};

// Runs on the current thread's proactor. Nothing (after printing the cause to stderr) when the
// connections cannot be made; otherwise the measurements, errors and mismatches included.
torsion::task<std::optional<load_result>> run_echo_load(const bench_options& opt, progress_fn progress);

}  // namespace torsion_bench
