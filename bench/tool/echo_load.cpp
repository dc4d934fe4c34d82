#include "echo_load.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <torsion/core/event.hpp>
#include <torsion/core/when_all.hpp>
#include <torsion/core/when_any.hpp>
#include <torsion/net/connect.hpp>
#include <torsion/time/sleep.hpp>
#include <vector>

#include "cpu_usage.hpp"
#include "payload.hpp"

namespace torsion_bench {
namespace {

using namespace torsion;
using time_point = clock_time_point;
using std::chrono::nanoseconds;

time_point clock_now() noexcept { return std::chrono::time_point_cast<nanoseconds>(std::chrono::steady_clock::now()); }

nanoseconds seconds_to_ns(double s) { return nanoseconds(std::llround(s * 1e9)); }

// Largest read, and largest batch of pipelined requests written at once.
constexpr std::size_t io_chunk = 64 * 1024;

// How many pipelined requests one write may carry.
std::uint64_t max_batch_of(const bench_options& o) {
  return std::min<std::uint64_t>(o.pipeline, std::max<std::size_t>(1, io_chunk / o.size));
}

struct connection {
  connection(tcp_stream s, std::uint32_t index, std::size_t ring_size, std::size_t recv_size)
      : stream(std::move(s)),
        id(index),
        send_pos(payload_pattern::start_of(index)),
        recv_pos(send_pos),
        send_times(ring_size),
        recv_buf(recv_size) {}

  tcp_stream stream;
  std::uint32_t id;
  std::size_t send_pos;        // pattern position of the next byte to send
  std::size_t recv_pos;        // ... and of the next byte expected back
  std::uint64_t sent = 0;      // requests handed to the socket
  std::uint64_t received = 0;  // requests fully echoed
  std::size_t recv_in_request = 0;
  bool request_bad = false;
  // When each request in flight was sent (or scheduled): a ring indexed by request number.
  std::vector<time_point> send_times;
  std::vector<std::byte> recv_buf;
  async_event credit;  // the reader freed a slot in the pipeline
};

struct cpu_marks {
  std::optional<std::uint64_t> server, cpu;
};

cpu_marks take_cpu_marks(const bench_options& opt) {
  cpu_marks m;
  if (opt.server_pid) m.server = process_cpu_us(*opt.server_pid);
  if (opt.cpu_stat) m.cpu = cpu_busy_us(*opt.cpu_stat);
  return m;
}

std::optional<std::uint64_t> cpu_delta(std::optional<std::uint64_t> before, std::optional<std::uint64_t> after) {
  if (!before || !after || *after < *before) return std::nullopt;
  return *after - *before;
}

// The end of the run cancels outstanding operations; that is not a connection error.
bool cancelled(const std::error_code& ec) { return ec == errc::operation_canceled; }

// What every connection shares: the settings, the schedule and the tallies.
class load_state {
 public:
  load_state(const bench_options& o, const payload_pattern& p, latency_histogram& h)
      : opt(o), pattern(p), size(o.size), ring_mask(std::bit_ceil(std::size_t{o.pipeline}) - 1), hist_(h) {
    if (o.rate > 0) interval_ns = 1e9 * o.connections / o.rate;
  }

  void begin(time_point now) {
    start = now;
    measure_from = now + seconds_to_ns(opt.warmup_s);
    measure_until = measure_from + seconds_to_ns(opt.duration_s);
  }

  bool paced() const noexcept { return interval_ns > 0; }
  // Open-loop schedule: connection c sends request k at start + (c / N + k) * interval, the
  // connections staggered evenly across one interval.
  time_point scheduled(const connection& c, std::uint64_t k) const noexcept {
    const double offset = (static_cast<double>(c.id) / opt.connections + static_cast<double>(k)) * interval_ns;
    return start + nanoseconds(static_cast<std::int64_t>(offset));
  }

  // Checks freshly received bytes against the stream and completes the requests they finish.
  // Returns how many requests completed.
  std::uint64_t consume(connection& c, std::span<const std::byte> got, time_point now) {
    std::uint64_t done = 0;
    while (!got.empty()) {
      const std::size_t take = std::min(got.size(), size - c.recv_in_request);
      if (!pattern.matches(c.recv_pos, got.first(take))) c.request_bad = true;
      c.recv_pos = payload_pattern::advance(c.recv_pos, take);
      c.recv_in_request += take;
      got = got.subspan(take);
      if (c.recv_in_request == size) {
        record(c.send_times[c.received & ring_mask], now, c.request_bad);
        ++c.received;
        ++done;
        c.recv_in_request = 0;
        c.request_bad = false;
      }
    }
    return done;
  }

  // Whether a read ended the connection (recording why, unless the run's end cancelled it).
  bool read_ended(const connection& c, const result<std::size_t>& n) {
    if (n && n.value() > 0) return false;
    if (!n) {
      if (!cancelled(n.error())) fail(c, n.error());
    } else {
      fail(c, "the server closed the connection");
    }
    return true;
  }
  bool write_failed(const connection& c, const result<void>& w) {
    if (w) return false;
    if (!cancelled(w.error())) fail(c, w.error());
    return true;
  }

  void fail(const connection& c, const std::string& why) {
    ++errors;
    if (first_error.empty()) first_error = "connection " + std::to_string(c.id) + ": " + why;
  }
  void fail(const connection& c, const std::error_code& ec) {
    if (ec == std::errc::connection_reset)
      fail(c, "connection reset by the server");
    else
      fail(c, ec.message());
  }

  const bench_options& opt;
  const payload_pattern& pattern;
  const std::size_t size;
  const std::size_t ring_mask;
  double interval_ns = 0;  // per connection, when paced
  const std::uint64_t max_batch = max_batch_of(opt);
  time_point start{}, measure_from{}, measure_until{};
  std::uint64_t all_round_trips = 0;  // warm-up included, for the progress display
  std::uint64_t round_trips = 0;
  std::uint64_t mismatches = 0;
  std::uint64_t errors = 0;
  std::string first_error;

 private:
  void record(time_point sent, time_point done, bool bad) noexcept {
    ++all_round_trips;
    if (bad) ++mismatches;
    if (done < measure_from || done >= measure_until) return;
    ++round_trips;
    hist_.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, (done - sent).count())));
  }
  latency_histogram& hist_;
};

// pipeline 1: one coroutine writes a request and reads its echo, over and over.
task<void> ping_pong(connection& c, load_state& s) {
  time_point now = clock_now();
  for (;;) {
    time_point sent_at = now;
    if (s.paced()) {
      sent_at = s.scheduled(c, c.sent);
      if (sent_at > now) {
        auto slept = co_await sleep_until(sent_at);
        if (!slept) co_return;
      }
    }
    c.send_times[0] = sent_at;
    ++c.sent;
    const auto request = s.pattern.window(c.send_pos, s.size);
    c.send_pos = payload_pattern::advance(c.send_pos, s.size);
    auto w = co_await c.stream.write_all(request);
    if (s.write_failed(c, w)) co_return;
    while (c.received < c.sent) {
      const std::size_t want = std::min(c.recv_buf.size(), s.size - c.recv_in_request);
      auto n = co_await c.stream.read_some(std::span(c.recv_buf.data(), want));
      if (s.read_ended(c, n)) co_return;
      now = clock_now();
      s.consume(c, std::span(c.recv_buf.data(), n.value()), now);
    }
  }
}

// pipeline D > 1, the writing half: keeps up to D requests in flight, sending every request it has
// room for (or, when paced, every request that is due) in one write.
task<void> pipeline_writer(connection& c, load_state& s) {
  const std::uint64_t depth = s.opt.pipeline;
  for (;;) {
    while (c.sent - c.received >= depth) {
      bool woken = co_await c.credit.wait();
      if (!woken) co_return;
    }
    std::uint64_t batch = std::min(depth - (c.sent - c.received), s.max_batch);
    time_point now = clock_now();
    if (s.paced()) {
      const time_point due = s.scheduled(c, c.sent);
      if (due > now) {
        auto slept = co_await sleep_until(due);
        if (!slept) co_return;
        now = clock_now();
      }
      std::uint64_t n = 0;
      for (time_point t = due; n < batch && t <= now; t = s.scheduled(c, c.sent + ++n)) {
        c.send_times[(c.sent + n) & s.ring_mask] = t;
      }
      batch = n;
    } else {
      for (std::uint64_t i = 0; i < batch; ++i) c.send_times[(c.sent + i) & s.ring_mask] = now;
    }
    c.sent += batch;
    const auto bytes = s.pattern.window(c.send_pos, batch * s.size);
    c.send_pos = payload_pattern::advance(c.send_pos, bytes.size());
    auto w = co_await c.stream.write_all(bytes);
    if (s.write_failed(c, w)) co_return;
  }
}

// The reading half: verifies the echoes as they stream in and frees pipeline slots.
task<void> pipeline_reader(connection& c, load_state& s) {
  for (;;) {
    auto n = co_await c.stream.read_some(c.recv_buf);
    if (s.read_ended(c, n)) co_return;
    const std::uint64_t unanswered = (c.sent - c.received) * s.size - c.recv_in_request;
    if (n.value() > unanswered) {
      s.fail(c, "the server sent more bytes than it was sent");
      co_return;
    }
    if (s.consume(c, std::span(c.recv_buf.data(), n.value()), clock_now()) > 0) c.credit.set();
  }
}

// Either half ending (a lost connection) ends the other.
task<void> pipelined(connection& c, load_state& s) {
  (void)co_await when_any(pipeline_writer(c, s), pipeline_reader(c, s));
}

// Takes the CPU marks at the window's edges, feeds the progress display, and returns at the end of
// the window (which cancels the connections still running).
task<void> timekeeper(load_state& s, const progress_fn& progress, cpu_marks& before, cpu_marks& after,
                      bool& window_complete) {
  const bool marks_taken_at_start = s.measure_from == s.start;
  bool before_taken = marks_taken_at_start;
  time_point next_tick = s.start + std::chrono::seconds(1);
  for (;;) {
    time_point wake = s.measure_until;
    if (!before_taken) wake = std::min(wake, s.measure_from);
    if (progress) wake = std::min(wake, next_tick);
    auto slept = co_await sleep_until(wake);
    if (!slept) co_return;
    const time_point now = clock_now();
    if (!before_taken && now >= s.measure_from) {
      before = take_cpu_marks(s.opt);
      before_taken = true;
    }
    if (now >= s.measure_until) {
      after = take_cpu_marks(s.opt);
      window_complete = true;
      co_return;
    }
    if (progress && now >= next_tick) {
      progress_snapshot p;
      p.elapsed_s = std::chrono::duration<double>(now - s.start).count();
      p.warming_up = next_tick <= s.measure_from;  // the second just ended was warm-up
      next_tick += std::chrono::seconds(1);
      p.round_trips = s.all_round_trips;
      p.errors = s.errors;
      p.mismatches = s.mismatches;
      progress(p);
    }
  }
}

std::string describe_connect_error(const std::error_code& ec, double timeout_s) {
  if (ec == errc::connection_refused) return "connection refused (is the server listening?)";
  if (ec == errc::timed_out) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "no answer within %g s (host unreachable?)", timeout_s);
    return buf;
  }
  if (ec == errc::dns_lookup_failed) return "cannot resolve the host name";
  return ec.message();
}

void report_connect_failure(const bench_options& opt, const std::string& which, const std::error_code& ec) {
  std::fprintf(stderr, "torsion-bench: cannot connect to %s port %u%s: %s\n", opt.host.c_str(), opt.port, which.c_str(),
               describe_connect_error(ec, opt.connect_timeout_s).c_str());
}

}  // namespace

task<std::optional<load_result>> run_echo_load(const bench_options& opt, progress_fn progress) {
  connect_options how;
  how.timeout = seconds_to_ns(opt.connect_timeout_s);
  // The first connection resolves the host and finds the address that answers; the others go
  // straight to that address, all at once.
  auto first = co_await connect(opt.host, opt.port, how);
  if (!first) {
    report_connect_failure(opt, "", first.error());
    co_return std::nullopt;
  }
  auto peer = first.value().peer_endpoint();
  if (!peer) {
    report_connect_failure(opt, "", peer.error());
    co_return std::nullopt;
  }
  std::vector<task<result<tcp_stream>>> attempts;
  for (std::uint32_t i = 1; i < opt.connections; ++i) attempts.push_back(connect(peer.value(), how));
  auto others = co_await when_all(std::move(attempts));

  const std::size_t recv_size = std::min<std::size_t>(io_chunk, opt.size * opt.pipeline);
  const std::size_t ring_size = std::bit_ceil(std::size_t{opt.pipeline});
  std::vector<std::unique_ptr<connection>> conns;
  conns.reserve(opt.connections);
  conns.push_back(std::make_unique<connection>(std::move(first).value(), 0, ring_size, recv_size));
  for (std::size_t i = 0; i < others.size(); ++i) {
    if (!others[i]) {
      report_connect_failure(opt,
                             " (connection " + std::to_string(i + 1) + " of " + std::to_string(opt.connections) + ")",
                             others[i].error());
      co_return std::nullopt;
    }
    conns.push_back(std::make_unique<connection>(std::move(others[i]).value(), static_cast<std::uint32_t>(i + 1),
                                                 ring_size, recv_size));
  }
  for (auto& c : conns) (void)c->stream.set_no_delay(true);

  load_result out;
  const payload_pattern pattern(std::max<std::size_t>(recv_size, opt.size * max_batch_of(opt)));
  load_state state(opt, pattern, *out.latency);
  cpu_marks before, after;
  state.begin(clock_now());
  if (state.measure_from == state.start) before = take_cpu_marks(opt);

  std::vector<task<void>> loops;
  loops.reserve(conns.size());
  for (auto& c : conns) loops.push_back(opt.pipeline == 1 ? ping_pong(*c, state) : pipelined(*c, state));
  (void)co_await when_any(when_all(std::move(loops)), timekeeper(state, progress, before, after, out.window_complete));

  out.round_trips = state.round_trips;
  out.mismatches = state.mismatches;
  out.errors = state.errors;
  out.first_error = state.first_error;
  if (out.window_complete) {
    out.server_cpu_us = cpu_delta(before.server, after.server);
    out.cpu_stat_us = cpu_delta(before.cpu, after.cpu);
  }
  co_return out;
}

}  // namespace torsion_bench
