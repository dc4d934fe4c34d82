#pragma once
// How a run is shown: the live one-line display, the final table, and the one-line JSON.
#include <optional>
#include <string>

#include "echo_load.hpp"
#include "options.hpp"

namespace torsion_bench {

// The figures derived from a run, as printed.
struct summary {
  double rt_per_s = 0;
  double mib_per_s = 0;  // payload bytes each way
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0;
  std::optional<double> server_cpu_us_per_rt, cpu_stat_us_per_rt;
};

summary summarize(const bench_options& opt, const load_result& r);

// One line of JSON with the keys bench/compare reads; no trailing newline.
std::string format_json(const bench_options& opt, const load_result& r, const summary& s);
std::string format_table(const bench_options& opt, const load_result& r, const summary& s);
// The live display's text for one second (no \r).
std::string format_progress(const progress_snapshot& now, const progress_snapshot& previous);

}  // namespace torsion_bench
