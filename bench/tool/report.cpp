#include "report.hpp"

#include <cstdarg>
#include <cstdio>

namespace torsion_bench {
namespace {

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  const int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return std::string(buf, n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

double us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string json_number_or_null(const std::optional<double>& v) { return v ? format("%.4f", *v) : "null"; }

std::string per_rt_row(const char* label, const std::optional<double>& v, const std::string& what) {
  if (!v) return format("  %-16s unavailable (%s)\n", label, what.c_str());
  return format("  %-16s %.3f us per round trip (%s)\n", label, *v, what.c_str());
}

}  // namespace

summary summarize(const bench_options& opt, const load_result& r) {
  summary s;
  s.rt_per_s = static_cast<double>(r.round_trips) / opt.duration_s;
  s.mib_per_s = s.rt_per_s * static_cast<double>(opt.size) / (1024.0 * 1024.0);
  const latency_histogram& h = *r.latency;
  s.p50_us = us(h.quantile(0.50));
  s.p90_us = us(h.quantile(0.90));
  s.p99_us = us(h.quantile(0.99));
  s.p999_us = us(h.quantile(0.999));
  if (r.round_trips > 0) {
    const auto rts = static_cast<double>(r.round_trips);
    if (r.server_cpu_us) s.server_cpu_us_per_rt = static_cast<double>(*r.server_cpu_us) / rts;
    if (r.cpu_stat_us) s.cpu_stat_us_per_rt = static_cast<double>(*r.cpu_stat_us) / rts;
  }
  return s;
}

std::string format_json(const bench_options& opt, const load_result& r, const summary& s) {
  return format(
             "{\"connections\":%u,\"size\":%zu,\"pipeline\":%u,\"rate\":%.0f,\"duration_s\":%g,\"round_trips\":%llu,"
             "\"rt_per_s\":%.1f,\"mib_per_s\":%.3f,\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,",
             opt.connections, opt.size, opt.pipeline, opt.rate, opt.duration_s,
             static_cast<unsigned long long>(r.round_trips), s.rt_per_s, s.mib_per_s, s.p50_us, s.p90_us, s.p99_us,
             s.p999_us) +
         format("\"errors\":%llu,\"mismatches\":%llu,\"server_cpu_us_per_rt\":%s,\"cpu_stat_us_per_rt\":%s}",
                static_cast<unsigned long long>(r.errors), static_cast<unsigned long long>(r.mismatches),
                json_number_or_null(s.server_cpu_us_per_rt).c_str(), json_number_or_null(s.cpu_stat_us_per_rt).c_str());
}

std::string format_table(const bench_options& opt, const load_result& r, const summary& s) {
  std::string t = format("torsion-bench echo %s port %u: %u connection%s x %zu B, pipeline %u, ", opt.host.c_str(),
                         opt.port, opt.connections, opt.connections == 1 ? "" : "s", opt.size, opt.pipeline);
  t += opt.rate > 0 ? format("offered %.0f round trips/s", opt.rate) : std::string("unpaced");
  t += format(", %g s after %g s warm-up\n", opt.duration_s, opt.warmup_s);
  t += format("  %-16s %llu\n", "round trips", static_cast<unsigned long long>(r.round_trips));
  t += format("  %-16s %.0f\n", "round trips/s", s.rt_per_s);
  t += format("  %-16s %.2f each way\n", "MiB/s", s.mib_per_s);
  const char* from = opt.rate > 0 ? "from scheduled send" : "from send";
  t += format("  %-16s p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f us (%s)\n", "latency", s.p50_us, s.p90_us, s.p99_us,
              s.p999_us, from);
  t += format("  %-16s %llu\n", "errors", static_cast<unsigned long long>(r.errors));
  t += format("  %-16s %llu\n", "mismatches", static_cast<unsigned long long>(r.mismatches));
  if (opt.server_pid) t += per_rt_row("server CPU", s.server_cpu_us_per_rt, format("pid %d", *opt.server_pid));
  if (opt.cpu_stat) t += per_rt_row("CPU busy", s.cpu_stat_us_per_rt, format("cpu%u, /proc/stat", *opt.cpu_stat));
  if (!r.window_complete) t += "  (every connection was lost before the end of the run)\n";
  return t;
}

std::string format_progress(const progress_snapshot& now, const progress_snapshot& previous) {
  const double dt = now.elapsed_s - previous.elapsed_s;
  const double rate = dt > 0 ? static_cast<double>(now.round_trips - previous.round_trips) / dt : 0.0;
  return format("%6.1f s %-9s %10.0f round trips/s  %llu errors  %llu mismatches", now.elapsed_s,
                now.warming_up ? "warm-up" : "measuring", rate, static_cast<unsigned long long>(now.errors),
                static_cast<unsigned long long>(now.mismatches));
}

}  // namespace torsion_bench
