// torsion-bench: a load generator for echo servers, built on Torsion. See options.cpp for usage.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <torsion/io/proactor.hpp>

#include "cpu_usage.hpp"
#include "echo_load.hpp"
#include "options.hpp"
#include "report.hpp"

using namespace torsion_bench;

namespace {

// So that 500+ connections work under the usual soft limit of 1024 descriptors.
bool raise_fd_limit(std::uint32_t connections) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return true;  // cannot tell: let connect() report it
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &lim);
    (void)::getrlimit(RLIMIT_NOFILE, &lim);
  }
  constexpr rlim_t spare = 32;  // stdio, the ring, the proactor's eventfd, the resolver
  if (lim.rlim_cur != RLIM_INFINITY && connections + spare > lim.rlim_cur) {
    std::fprintf(stderr,
                 "torsion-bench: %u connections need about %llu file descriptors but the limit is %llu "
                 "(raise it with ulimit -n)\n",
                 connections, static_cast<unsigned long long>(connections + spare),
                 static_cast<unsigned long long>(lim.rlim_cur));
    return false;
  }
  return true;
}

// A last guard: whatever happens, the process ends shortly after the run should have.
void arm_backstop(const bench_options& o) {
  std::signal(SIGALRM, [](int) {
    static const char msg[] = "torsion-bench: the run did not end in time; giving up\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(1);
  });
  const double limit = 2 * o.connect_timeout_s + o.warmup_s + o.duration_s + 10;
  ::alarm(static_cast<unsigned>(std::ceil(limit)));
}

int usage_error(const std::string& why) {
  std::fprintf(stderr, "torsion-bench: %s\n(torsion-bench --help shows the usage)\n", why.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const parsed_args args = parse_args(std::vector<std::string>(argv, argv + argc));
  if (args.help) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  if (!args.error.empty()) return usage_error(args.error);
  const bench_options& opt = args.options;
  if (opt.server_pid && !process_cpu_us(*opt.server_pid)) {
    return usage_error("--server-pid " + std::to_string(*opt.server_pid) + ": no such process (or /proc/" +
                       std::to_string(*opt.server_pid) + "/stat is unreadable)");
  }
  if (opt.cpu_stat && !cpu_busy_us(*opt.cpu_stat)) {
    return usage_error("--cpu-stat " + std::to_string(*opt.cpu_stat) + ": no such CPU in /proc/stat");
  }
  if (!raise_fd_limit(opt.connections)) return 1;
  arm_backstop(opt);

  // Room for a read and a write in flight per connection (the ring admits cq_entries / 2 operations).
  torsion::proactor_config cfg;
  cfg.sq_entries = std::clamp<unsigned>(std::bit_ceil(opt.connections), 256, 16384);
  auto px = torsion::proactor::create(cfg);
  if (!px) {
    std::fprintf(stderr, "torsion-bench: %s\n", px.error().message().c_str());
    return 1;
  }

  const bool live = !opt.json && ::isatty(STDOUT_FILENO);
  progress_fn progress;
  progress_snapshot previous;
  if (live) {
    progress = [&previous](const progress_snapshot& now) {
      std::printf("\r%s\033[K", format_progress(now, previous).c_str());
      std::fflush(stdout);
      previous = now;
    };
  }
  auto result = px.value()->run(run_echo_load(opt, progress));
  if (live) {
    std::printf("\r\033[K");
    std::fflush(stdout);
  }
  if (!result) return 1;

  const summary s = summarize(opt, *result);
  if (opt.json)
    std::printf("%s\n", format_json(opt, *result, s).c_str());
  else
    std::fputs(format_table(opt, *result, s).c_str(), stdout);
  std::fflush(stdout);

  int status = 0;
  if (result->errors) {
    std::fprintf(stderr, "torsion-bench: %llu connection%s lost; the first: %s\n",
                 static_cast<unsigned long long>(result->errors), result->errors == 1 ? "" : "s",
                 result->first_error.c_str());
    status = 1;
  }
  if (result->mismatches) {
    std::fprintf(stderr, "torsion-bench: %llu round trip%s came back with wrong bytes\n",
                 static_cast<unsigned long long>(result->mismatches), result->mismatches == 1 ? "" : "s");
    status = 1;
  }
  if (result->round_trips == 0) {
    std::fprintf(stderr, "torsion-bench: no round trip completed in the measured window\n");
    status = 1;
  }
  return status;
}
