/* Shared by the baseline echo servers: the echo_server command-line contract
 *   PROG [--host 127.0.0.1] [--port 0] [extra options]
 * one "listening on HOST:PORT" line once accepting, exit 0 on SIGINT/SIGTERM,
 * a message and exit 1 on bad flags or a listen failure. */
#ifndef TORSION_BENCH_BASELINE_COMMON_H
#define TORSION_BENCH_BASELINE_COMMON_H

#ifdef __cplusplus
extern "C" {
#endif

/* A server-specific numeric option, "--NAME N" with LO <= N <= HI. */
struct baseline_option {
  const char* name;
  unsigned long* value;
  unsigned long lo, hi;
  const char* help;
};

struct baseline_args {
  const char* host;
  unsigned port;
};

/* Parses argv; prints usage and exits 1 on anything unknown or out of range. */
void baseline_parse_args(int argc, char** argv, struct baseline_args* out, struct baseline_option* extra, int n_extra);

/* A bound, listening TCP socket (SO_REUSEADDR, backlog SOMAXCONN), non-blocking if asked.
 * Prints why and exits 1 when the host does not resolve or the port cannot be bound. */
int baseline_listen(const char* prog, const struct baseline_args* args, int nonblocking);

/* Prints "listening on HOST:PORT" for the socket's local address and flushes stdout. */
void baseline_announce(int listen_fd);

/* Blocks SIGINT and SIGTERM and returns a signalfd that reports them (io_uring wants it blocking,
 * epoll non-blocking). Exits 1 on failure. */
int baseline_signalfd(const char* prog, int nonblocking);

#ifdef __cplusplus
}
#endif

#endif
