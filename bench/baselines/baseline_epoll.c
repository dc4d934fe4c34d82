/* baseline_epoll: the plain epoll echo server Torsion is compared with.
 *   baseline_epoll [--host 127.0.0.1] [--port 0]
 *
 * One thread, level-triggered epoll, non-blocking sockets. A readable connection gets one read
 * into a shared 64 KiB buffer and the bytes are written straight back. Only a short write keeps
 * state: the remainder is copied aside and the connection switches from EPOLLIN to EPOLLOUT until
 * it is flushed, which also stops reading from a peer that does not read its echoes. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "baseline_common.h"

enum { READ_BUF = 64 * 1024, MAX_EVENTS = 256 };

/* Unsent output of a connection whose last write was short. */
struct pending {
  char* data;
  size_t off, len;
};

static struct pending** pend; /* indexed by descriptor; NULL while nothing is pending */
static size_t pend_cap;
static int ep;

static void die(const char* what) {
  fprintf(stderr, "baseline_epoll: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void watch(int op, int fd, unsigned events) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  if (epoll_ctl(ep, op, fd, &ev) != 0) die("epoll_ctl");
}

static void conn_close(int fd) {
  if ((size_t)fd < pend_cap && pend[fd] != NULL) {
    free(pend[fd]->data);
    free(pend[fd]);
    pend[fd] = NULL;
  }
  close(fd); /* also removes it from the epoll set */
}

/* Keeps data[0..len) for later and waits for writability instead of readability. */
static void park(int fd, const char* data, size_t len) {
  if ((size_t)fd >= pend_cap) {
    size_t cap = pend_cap ? pend_cap : 1024;
    while (cap <= (size_t)fd) cap *= 2;
    pend = realloc(pend, sizeof(struct pending*) * cap);
    if (pend == NULL) die("realloc");
    memset(pend + pend_cap, 0, sizeof(struct pending*) * (cap - pend_cap));
    pend_cap = cap;
  }
  struct pending* p = malloc(sizeof *p);
  if (p == NULL || (p->data = malloc(len)) == NULL) die("malloc");
  memcpy(p->data, data, len);
  p->off = 0;
  p->len = len;
  pend[fd] = p;
  watch(EPOLL_CTL_MOD, fd, EPOLLOUT);
}

static void on_readable(int fd, char* buf) {
  ssize_t n = recv(fd, buf, READ_BUF, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    conn_close(fd);
    return;
  }
  ssize_t w = send(fd, buf, (size_t)n, MSG_NOSIGNAL);
  if (w < 0 && errno != EAGAIN) {
    conn_close(fd);
    return;
  }
  if (w < 0) w = 0;
  if (w < n) park(fd, buf + w, (size_t)(n - w));
}

static void on_writable(int fd) {
  struct pending* p = pend[fd];
  ssize_t w = send(fd, p->data + p->off, p->len - p->off, MSG_NOSIGNAL);
  if (w < 0 && errno == EAGAIN) return;
  if (w < 0) {
    conn_close(fd);
    return;
  }
  p->off += (size_t)w;
  if (p->off < p->len) return;
  free(p->data);
  free(p);
  pend[fd] = NULL;
  watch(EPOLL_CTL_MOD, fd, EPOLLIN);
}

static void on_acceptable(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        static int reported;
        if (!reported++) fprintf(stderr, "baseline_epoll: accept: %s\n", strerror(errno));
      }
      if (errno != ECONNABORTED) return;
      continue;
    }
    watch(EPOLL_CTL_ADD, fd, EPOLLIN);
  }
}

int main(int argc, char** argv) {
  struct baseline_args args;
  baseline_parse_args(argc, argv, &args, NULL, 0);
  signal(SIGPIPE, SIG_IGN);
  const int sfd = baseline_signalfd("baseline_epoll", 1);
  const int lfd = baseline_listen("baseline_epoll", &args, 1);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  watch(EPOLL_CTL_ADD, lfd, EPOLLIN);
  watch(EPOLL_CTL_ADD, sfd, EPOLLIN);
  baseline_announce(lfd);

  static char buf[READ_BUF];
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(ep, events, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == sfd) return 0;
      if (fd == lfd)
        on_acceptable(lfd);
      else if ((size_t)fd < pend_cap && pend[fd] != NULL)
        on_writable(fd); /* parked: only EPOLLOUT (or ERR/HUP) is watched */
      else
        on_readable(fd, buf);
    }
  }
}
