/* baseline_uring: the raw liburing echo server, the "practical limit" Torsion is measured against.
 *   baseline_uring [--host 127.0.0.1] [--port 0] [--buffers 1024] [--buffer-size 16384] [--defer-taskrun 1]
 *
 * One thread, one ring (SINGLE_ISSUER|DEFER_TASKRUN when the kernel takes it), multishot accept,
 * multishot recv into a provided-buffer ring, and the received buffers themselves sent back: a
 * connection queues (buffer, offset, length) chunks and has at most one send in flight, which
 * gathers every queued chunk into one sendmsg; a connection's first send starts at the end of the
 * loop turn that received its data. A buffer goes back to the ring once its bytes are
 * sent. One io_uring_submit_and_wait per loop turn.
 *
 * Back-pressure: a connection holding more than HIGH_CHUNKS buffers (its peer is not reading) has
 * its recv cancelled and re-armed once the queue drains, so one slow peer cannot empty the pool. */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "baseline_common.h"

enum op { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_SIGNAL, OP_IGNORE };

enum {
  BUF_GROUP = 0,
  MAX_IOV = 64,     /* chunks gathered into one sendmsg */
  HIGH_CHUNKS = 64, /* queued buffers that pause a connection's recv... */
  LOW_CHUNKS = 16,  /* ...and the level at which it is re-armed */
};

struct chunk {
  uint32_t bid;
  uint32_t off;
  uint32_t len;
};

struct conn {
  int fd;
  uint32_t gen;      /* tells a recycled descriptor's completions from its predecessor's */
  bool recv_armed;   /* a multishot recv is outstanding (its final CQE has not arrived) */
  bool send_busy;    /* a send/sendmsg is in flight */
  bool read_done;    /* end of stream or a receive error: no more reading */
  bool write_failed; /* a send failed: queued output is dropped */
  bool paused;       /* recv cancelled for back-pressure */
  bool starved;      /* recv ended with ENOBUFS; on the starved list */
  bool send_listed;  /* on the to_send list: its send starts at the end of this loop turn */
  struct chunk* q;   /* circular queue of received chunks waiting to be echoed */
  uint32_t q_head, q_len, q_cap;
  struct iovec* iov; /* allocated the first time a connection gathers */
  struct msghdr msg;
};

static struct io_uring ring;
static struct io_uring_buf_ring* br;
static unsigned char* buf_base;
/* 16 KiB buffers: with 4 KiB ones a 16 KiB message was often echoed as a first part and a rest,
 * and the rest then waited for the peer's delayed ACK (Nagle): p99 47 ms instead of 8 ms. 1024 of
 * them cover 500 ping-pong connections twice. */
static unsigned long n_bufs = 1024;
static unsigned long buf_size = 16384;
static unsigned long use_defer = 1;
static unsigned pending_returns; /* buffers added to the ring since the last advance */

static struct conn** conns; /* indexed by descriptor */
static size_t conns_cap;
static uint32_t next_gen;
/* Descriptor lists, each reset once per loop turn. */
struct fd_list {
  int* fds;
  size_t n, cap;
};
static struct fd_list starved; /* recv stopped on ENOBUFS: re-armed when buffers come back */
static struct fd_list to_send; /* received data and no send in flight */

static void die(const char* what, int err) {
  fprintf(stderr, "baseline_uring: %s: %s\n", what, strerror(err));
  exit(1);
}

static void* xrealloc(void* p, size_t n) {
  p = realloc(p, n);
  if (p == NULL) die("out of memory", ENOMEM);
  return p;
}

static void fd_list_push(struct fd_list* l, int fd) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 64;
    l->fds = xrealloc(l->fds, sizeof(int) * l->cap);
  }
  l->fds[l->n++] = fd;
}

static inline uint64_t tag(enum op op, uint32_t gen, int fd) {
  return ((uint64_t)op << 56) | ((uint64_t)(gen & 0xffffff) << 32) | (uint32_t)fd;
}

static struct io_uring_sqe* sqe_get(void) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  while (sqe == NULL) { /* SQ full: push what is there and try again */
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  return sqe;
}

static inline void buffer_return(uint32_t bid) {
  io_uring_buf_ring_add(br, buf_base + (size_t)bid * buf_size, (unsigned)buf_size, (unsigned short)bid,
                        io_uring_buf_ring_mask((unsigned)n_bufs), (int)pending_returns);
  ++pending_returns;
}

static void arm_recv(struct conn* c) {
  struct io_uring_sqe* sqe = sqe_get();
  io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = BUF_GROUP;
  io_uring_sqe_set_data64(sqe, tag(OP_RECV, c->gen, c->fd));
  c->recv_armed = true;
  c->paused = false;
}

static void arm_accept(int lfd) {
  struct io_uring_sqe* sqe = sqe_get();
  io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, tag(OP_ACCEPT, 0, lfd));
}

static void start_send(struct conn* c) {
  uint32_t n = c->q_len < MAX_IOV ? c->q_len : MAX_IOV;
  struct io_uring_sqe* sqe = sqe_get();
  const uint32_t mask = c->q_cap - 1;
  if (n == 1) {
    const struct chunk* k = &c->q[c->q_head];
    io_uring_prep_send(sqe, c->fd, buf_base + (size_t)k->bid * buf_size + k->off, k->len, MSG_NOSIGNAL);
  } else {
    if (c->iov == NULL) c->iov = xrealloc(NULL, sizeof(struct iovec) * MAX_IOV);
    for (uint32_t i = 0; i < n; ++i) {
      const struct chunk* k = &c->q[(c->q_head + i) & mask];
      c->iov[i].iov_base = buf_base + (size_t)k->bid * buf_size + k->off;
      c->iov[i].iov_len = k->len;
    }
    memset(&c->msg, 0, sizeof c->msg);
    c->msg.msg_iov = c->iov;
    c->msg.msg_iovlen = n;
    io_uring_prep_sendmsg(sqe, c->fd, &c->msg, MSG_NOSIGNAL);
  }
  io_uring_sqe_set_data64(sqe, tag(OP_SEND, c->gen, c->fd));
  c->send_busy = true;
}

static void queue_push(struct conn* c, uint32_t bid, uint32_t len) {
  if (c->q_len == c->q_cap) { /* grow, unrolling the circle so q_head becomes 0 */
    uint32_t cap = c->q_cap ? c->q_cap * 2 : 16;
    struct chunk* q = xrealloc(NULL, sizeof(struct chunk) * cap);
    for (uint32_t i = 0; i < c->q_len; ++i) q[i] = c->q[(c->q_head + i) & (c->q_cap - 1)];
    free(c->q);
    c->q = q;
    c->q_head = 0;
    c->q_cap = cap;
  }
  c->q[(c->q_head + c->q_len) & (c->q_cap - 1)] = (struct chunk){bid, 0, len};
  ++c->q_len;
}

static void queue_drop_all(struct conn* c) {
  for (uint32_t i = 0; i < c->q_len; ++i) buffer_return(c->q[(c->q_head + i) & (c->q_cap - 1)].bid);
  c->q_head = 0;
  c->q_len = 0;
}

static struct conn* conn_new(int fd) {
  if ((size_t)fd >= conns_cap) {
    size_t cap = conns_cap ? conns_cap : 1024;
    while (cap <= (size_t)fd) cap *= 2;
    conns = xrealloc(conns, sizeof(struct conn*) * cap);
    memset(conns + conns_cap, 0, sizeof(struct conn*) * (cap - conns_cap));
    conns_cap = cap;
  }
  struct conn* c = xrealloc(NULL, sizeof *c);
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->gen = ++next_gen & 0xffffff;
  conns[fd] = c;
  return c;
}

/* Closes once nothing the kernel may touch is outstanding and nothing is left to send. */
static void conn_maybe_close(struct conn* c) {
  if (!c->read_done || c->recv_armed || c->send_busy || (c->q_len != 0 && !c->write_failed)) return;
  queue_drop_all(c);
  conns[c->fd] = NULL;
  close(c->fd);
  free(c->q);
  free(c->iov);
  free(c);
}

static void cancel_recv(struct conn* c) {
  struct io_uring_sqe* sqe = sqe_get();
  io_uring_prep_cancel64(sqe, tag(OP_RECV, c->gen, c->fd), 0);
  io_uring_sqe_set_data64(sqe, tag(OP_IGNORE, 0, 0));
}

static void on_recv(struct conn* c, const struct io_uring_cqe* cqe) {
  if (cqe->flags & IORING_CQE_F_BUFFER) {
    const uint32_t bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    if (cqe->res > 0 && !c->write_failed) {
      queue_push(c, bid, (uint32_t)cqe->res);
      /* Sending at the end of the turn gathers everything this turn received (a 16 KiB message
       * spans several buffers) into one send, rather than a first small send and then the rest
       * held back by Nagle until the peer's delayed ACK. */
      if (!c->send_busy && !c->send_listed) {
        c->send_listed = true;
        fd_list_push(&to_send, c->fd);
      }
    } else {
      buffer_return(bid);
    }
  }
  if (cqe->flags & IORING_CQE_F_MORE) {
    /* Still armed; a peer that does not read gets its recv cancelled. */
    if (c->q_len > HIGH_CHUNKS && !c->paused) {
      c->paused = true;
      cancel_recv(c);
    }
    return;
  }
  c->recv_armed = false;
  if (cqe->res == -ENOBUFS && !c->write_failed) { /* pool empty: re-armed once buffers come back */
    if (!c->starved) {
      c->starved = true;
      fd_list_push(&starved, c->fd);
    }
  } else if (cqe->res == -ECANCELED && c->paused && !c->write_failed) {
    if (c->q_len <= LOW_CHUNKS) arm_recv(c); /* drained while the cancel was on its way */
  } else if (cqe->res > 0 && !c->write_failed) {
    arm_recv(c); /* the kernel ended the multishot (e.g. CQ overflow); data may still come */
  } else {
    c->read_done = true; /* end of stream, or an error */
  }
  conn_maybe_close(c);
}

static void on_send(struct conn* c, int res) {
  c->send_busy = false;
  if (res < 0) {
    c->write_failed = true;
    queue_drop_all(c);
    if (c->recv_armed) {
      cancel_recv(c);
      c->paused = false; /* its -ECANCELED now ends the reading */
    } else {
      c->read_done = true;
    }
    conn_maybe_close(c);
    return;
  }
  /* Retire fully-sent chunks; a partial send leaves the rest of the front chunk queued first. */
  uint32_t sent = (uint32_t)res;
  const uint32_t mask = c->q_cap - 1;
  while (c->q_len > 0 && sent > 0) {
    struct chunk* k = &c->q[c->q_head];
    if (sent < k->len) {
      k->off += sent;
      k->len -= sent;
      break;
    }
    sent -= k->len;
    buffer_return(k->bid);
    c->q_head = (c->q_head + 1) & mask;
    --c->q_len;
  }
  if (c->q_len > 0) start_send(c);
  if (c->paused && !c->recv_armed && !c->read_done && c->q_len <= LOW_CHUNKS) arm_recv(c);
  conn_maybe_close(c);
}

static void on_accept(int lfd, const struct io_uring_cqe* cqe) {
  if (cqe->res >= 0) {
    arm_recv(conn_new(cqe->res));
  } else {
    static int reported;
    if (!reported++) fprintf(stderr, "baseline_uring: accept: %s\n", strerror(-cqe->res));
  }
  if (!(cqe->flags & IORING_CQE_F_MORE)) arm_accept(lfd);
}

static void setup_ring(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
  if (use_defer) p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  p.cq_entries = 16384;
  int rc = io_uring_queue_init_params(4096, &ring, &p);
  if (rc == -EINVAL && use_defer) {
    fprintf(stderr, "baseline_uring: note: the kernel refuses SINGLE_ISSUER|DEFER_TASKRUN; running without\n");
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
    p.cq_entries = 16384;
    rc = io_uring_queue_init_params(4096, &ring, &p);
  }
  if (rc < 0) die("io_uring_queue_init", -rc);
  /* A registered ring descriptor spares io_uring_enter a file lookup per call; optional. */
  (void)io_uring_register_ring_fd(&ring);

  /* liburing 2.3 has no io_uring_setup_buf_ring: map the ring ourselves and register it. */
  const size_t ring_bytes = n_bufs * sizeof(struct io_uring_buf);
  br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (br == MAP_FAILED) die("mmap", errno);
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (unsigned long)br;
  reg.ring_entries = (unsigned)n_bufs;
  reg.bgid = BUF_GROUP;
  rc = io_uring_register_buf_ring(&ring, &reg, 0);
  if (rc < 0) die("io_uring_register_buf_ring", -rc);
  io_uring_buf_ring_init(br);
  buf_base = mmap(NULL, n_bufs * buf_size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (buf_base == MAP_FAILED) die("mmap", errno);
  for (uint32_t bid = 0; bid < n_bufs; ++bid) buffer_return(bid);
  io_uring_buf_ring_advance(br, (int)pending_returns);
  pending_returns = 0;
}

int main(int argc, char** argv) {
  struct baseline_option extra[] = {
      {"buffers", &n_bufs, 1, 32768, "provided buffers, a power of two"},
      {"buffer-size", &buf_size, 64, 1 << 20, "bytes per provided buffer"},
      {"defer-taskrun", &use_defer, 0, 1, "1 = ask for SINGLE_ISSUER|DEFER_TASKRUN"},
  };
  struct baseline_args args;
  baseline_parse_args(argc, argv, &args, extra, 3);
  if (n_bufs & (n_bufs - 1)) {
    fprintf(stderr, "baseline_uring: --buffers must be a power of two\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  const int sfd = baseline_signalfd("baseline_uring", 0);
  const int lfd = baseline_listen("baseline_uring", &args, 0);
  setup_ring();

  struct signalfd_siginfo si;
  struct io_uring_sqe* sqe = sqe_get();
  io_uring_prep_read(sqe, sfd, &si, sizeof si, 0);
  io_uring_sqe_set_data64(sqe, tag(OP_SIGNAL, 0, sfd));
  arm_accept(lfd);
  baseline_announce(lfd);

  for (bool running = true; running;) {
    int rc = io_uring_submit_and_wait(&ring, 1);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) die("io_uring_submit_and_wait", -rc);
    struct io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      const uint64_t ud = io_uring_cqe_get_data64(cqe);
      const enum op op = (enum op)(ud >> 56);
      const int fd = (int)(uint32_t)ud;
      const uint32_t gen = (uint32_t)(ud >> 32) & 0xffffff;
      if (op == OP_RECV || op == OP_SEND) {
        struct conn* c = (size_t)fd < conns_cap ? conns[fd] : NULL;
        if (c == NULL || c->gen != gen) { /* cannot happen: a connection outlives its operations */
          if (cqe->flags & IORING_CQE_F_BUFFER) buffer_return(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
          continue;
        }
        if (op == OP_RECV)
          on_recv(c, cqe);
        else
          on_send(c, cqe->res);
      } else if (op == OP_ACCEPT) {
        on_accept(fd, cqe);
      } else if (op == OP_SIGNAL) {
        running = false;
      }
    }
    io_uring_cq_advance(&ring, seen);
    for (size_t i = 0; i < to_send.n; ++i) {
      struct conn* c = conns[to_send.fds[i]]; /* cannot have closed: it holds unsent bytes */
      if (c == NULL) continue;
      c->send_listed = false;
      if (!c->send_busy && c->q_len > 0) start_send(c);
    }
    to_send.n = 0;
    if (pending_returns) {
      io_uring_buf_ring_advance(br, (int)pending_returns);
      pending_returns = 0;
      /* Buffers are back: restart the receives that ran dry. */
      for (size_t i = 0; i < starved.n; ++i) {
        struct conn* c = conns[starved.fds[i]];
        if (c == NULL || !c->starved) continue; /* closed meanwhile, or listed twice */
        c->starved = false;
        if (!c->recv_armed && !c->read_done && !c->write_failed) arm_recv(c);
      }
      starved.n = 0;
    }
  }
  io_uring_queue_exit(&ring);
  return 0;
}
