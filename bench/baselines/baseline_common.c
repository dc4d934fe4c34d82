#define _GNU_SOURCE
#include "baseline_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

static void usage(const char* prog, const struct baseline_option* extra, int n_extra) {
  fprintf(stderr, "usage: %s [--host H (127.0.0.1)] [--port P (0 = ephemeral)]", prog);
  for (int i = 0; i < n_extra; ++i)
    fprintf(stderr, " [--%s N (%lu): %s]", extra[i].name, *extra[i].value, extra[i].help);
  fprintf(stderr, "\n");
  exit(1);
}

static int parse_number(const char* s, unsigned long lo, unsigned long hi, unsigned long* out) {
  char* end = NULL;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

void baseline_parse_args(int argc, char** argv, struct baseline_args* out, struct baseline_option* extra, int n_extra) {
  const char* prog = argv[0];
  out->host = "127.0.0.1";
  out->port = 0;
  for (int i = 1; i < argc; i += 2) {
    const char* flag = argv[i];
    if (strncmp(flag, "--", 2) != 0 || i + 1 >= argc) {
      fprintf(stderr, "%s: unknown or incomplete argument '%s'\n", prog, flag);
      usage(prog, extra, n_extra);
    }
    const char* name = flag + 2;
    const char* value = argv[i + 1];
    if (strcmp(name, "host") == 0) {
      out->host = value;
      continue;
    }
    unsigned long v = 0;
    if (strcmp(name, "port") == 0) {
      if (parse_number(value, 0, 65535, &v) != 0) {
        fprintf(stderr, "%s: --port: '%s' is not a port number (0-65535)\n", prog, value);
        exit(1);
      }
      out->port = (unsigned)v;
      continue;
    }
    int found = 0;
    for (int k = 0; k < n_extra && !found; ++k) {
      if (strcmp(name, extra[k].name) != 0) continue;
      found = 1;
      if (parse_number(value, extra[k].lo, extra[k].hi, extra[k].value) != 0) {
        fprintf(stderr, "%s: --%s: '%s' is not a number in %lu-%lu\n", prog, name, value, extra[k].lo, extra[k].hi);
        exit(1);
      }
    }
    if (!found) {
      fprintf(stderr, "%s: unknown argument '%s'\n", prog, flag);
      usage(prog, extra, n_extra);
    }
  }
}

int baseline_listen(const char* prog, const struct baseline_args* args, int nonblocking) {
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  char port[8];
  snprintf(port, sizeof port, "%u", args->port);
  struct addrinfo* res = NULL;
  int rc = getaddrinfo(args->host, port, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "%s: %s: %s\n", prog, args->host, gai_strerror(rc));
    exit(1);
  }
  int err = 0;
  int fd = -1;
  for (struct addrinfo* ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) {
      err = errno;
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
      err = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    fprintf(stderr, "%s: cannot listen on %s:%u: %s\n", prog, args->host, args->port, strerror(err));
    exit(1);
  }
  return fd;
}

void baseline_announce(int listen_fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (getsockname(listen_fd, (struct sockaddr*)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET6) {
      const struct sockaddr_in6* a = (const struct sockaddr_in6*)&ss;
      inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
      port = ntohs(a->sin6_port);
      printf("listening on [%s]:%u\n", host, port);
    } else {
      const struct sockaddr_in* a = (const struct sockaddr_in*)&ss;
      inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      port = ntohs(a->sin_port);
      printf("listening on %s:%u\n", host, port);
    }
  }
  fflush(stdout);
}

int baseline_signalfd(const char* prog, int nonblocking) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int fd = -1;
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
      (fd = signalfd(-1, &set, SFD_CLOEXEC | (nonblocking ? SFD_NONBLOCK : 0))) < 0) {
    fprintf(stderr, "%s: signalfd: %s\n", prog, strerror(errno));
    exit(1);
  }
  return fd;
}
