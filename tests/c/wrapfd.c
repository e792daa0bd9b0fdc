/*
 * mg_wrapfd and mg_dscp with Mongoose 7.22's names through mongoose.h: descriptors the
 * program made itself (one end of a socketpair, both ends of pipes, a TCP socket it
 * connected) become connections of the manager: bytes arriving are MG_EV_READ in
 * mg_recv, mg_send writes to them, the far end closing gives MG_EV_CLOSE, and mg_dscp sets
 * the socket's IP_TOS / IPV6_TCLASS as getsockopt then reads it. Default signal handling (a pipe whose
 * reader left must not kill the program). Prints "N passed, M failed". Run by
 * tests/wrapfd.rs.
 */
#include "mongoose.h"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

#ifndef IPV6_TCLASS
#define IPV6_TCLASS 67 /* Linux; hidden by -std=c99 in some glibc versions */
#endif

#include "check.h"

/* What one wrapped descriptor saw. */
struct seen {
  int open, read_events, closed;
  char got[256];
  size_t len;
};

static void fn(struct mg_conn c, int ev, void *ev_data) {
  struct seen *s = (struct seen *) mg_fn_data(c);
  (void) ev_data;
  if (ev == MG_EV_OPEN) {
    s->open++;
  } else if (ev == MG_EV_READ) {
    struct mg_str r = mg_recv(c);
    size_t n = r.len < sizeof(s->got) - 1 - s->len ? r.len : sizeof(s->got) - 1 - s->len;
    s->read_events++;
    memcpy(s->got + s->len, r.buf, n);
    s->len += n;
    s->got[s->len] = '\0';
    mg_recv_consume(c, r.len);
    if (strstr(s->got, "ping") != NULL) mg_send(c, "pong", 4);
  } else if (ev == MG_EV_CLOSE) {
    s->closed++;
  }
}

static void poll_until(struct mg_mgr *mgr, int *flag, int want) {
  int i;
  for (i = 0; i < 200 && *flag < want; i++) mg_mgr_poll(mgr, 10);
}

/* Read what is there from `fd`, polling the manager meanwhile (bounded). */
static size_t read_some(struct mg_mgr *mgr, int fd, char *buf, size_t len) {
  int i;
  for (i = 0; i < 200; i++) {
    ssize_t n;
    mg_mgr_poll(mgr, 10);
    n = recv(fd, buf, len - 1, MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK) n = read(fd, buf, len - 1); /* a non-blocking pipe */
    if (n > 0) {
      buf[n] = '\0';
      return (size_t) n;
    }
  }
  buf[0] = '\0';
  return 0;
}

static void test_socketpair(struct mg_mgr *mgr) {
  struct seen s;
  int sv[2];
  char buf[64];
  struct mg_conn c;
  memset(&s, 0, sizeof(s));
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  c = mg_wrapfd(mgr, sv[0], fn, &s);
  CHECK(c.h != 0);
  CHECK(s.open == 1);
  CHECK(write(sv[1], "ping", 4) == 4);
  poll_until(mgr, &s.read_events, 1);
  CHECK_STR(s.got, "ping");
  CHECK(read_some(mgr, sv[1], buf, sizeof(buf)) == 4);
  CHECK_STR(buf, "pong");
  /* Not an IP socket: no DSCP. */
  CHECK(mg_dscp(c, MG_DSCP_EF) == MG_ERR_UNSUPPORTED);
  close(sv[1]);
  poll_until(mgr, &s.closed, 1);
  CHECK(s.closed == 1);
  CHECK(mg_send(c, "x", 1) == MG_ERR_STALE);
}

static void test_pipes(struct mg_mgr *mgr) {
  struct seen in, out;
  int p[2], q[2];
  char buf[64];
  struct mg_conn r, w;
  memset(&in, 0, sizeof(in));
  memset(&out, 0, sizeof(out));
  CHECK(pipe(p) == 0 && pipe(q) == 0);
  CHECK(fcntl(q[0], F_SETFL, O_NONBLOCK) == 0);
  r = mg_wrapfd(mgr, p[0], fn, &in);  /* the read end of p */
  w = mg_wrapfd(mgr, q[1], fn, &out); /* the write end of q */
  CHECK(r.h != 0 && w.h != 0);
  CHECK(write(p[1], "through a pipe", 14) == 14);
  poll_until(mgr, &in.read_events, 1);
  CHECK_STR(in.got, "through a pipe");
  CHECK(mg_send(w, "to the pipe", 11) == 0);
  CHECK(read_some(mgr, q[0], buf, sizeof(buf)) == 11);
  CHECK_STR(buf, "to the pipe");
  close(p[1]); /* end of stream: the reading connection closes */
  poll_until(mgr, &in.closed, 1);
  CHECK(in.closed == 1);
  /* The reader of q leaves: the next write fails (EPIPE, no SIGPIPE) and closes w. */
  close(q[0]);
  CHECK(mg_send(w, "nobody reads", 12) == 0);
  poll_until(mgr, &out.closed, 1);
  CHECK(out.closed == 1);
}

static void test_refused(struct mg_mgr *mgr) {
  struct seen s;
  struct mg_conn c;
  int fd;
  memset(&s, 0, sizeof(s));
  c = mg_wrapfd(mgr, -1, fn, &s);
  CHECK(c.h == 0 && mg_last_error() == MG_ERR_INVALID);
  fd = dup(1);
  close(fd); /* a number that is not open now */
  c = mg_wrapfd(mgr, fd, fn, &s);
  CHECK(c.h == 0 && mg_last_error() == MG_ERR_INVALID);
  CHECK(s.open == 0);
  c = mg_wrapfd(NULL, 0, fn, &s);
  CHECK(c.h == 0);
}

/* A connected TCP pair on the loopback of `family`: the client end in *fd, the accepted
 * end returned (and the listener closed). */
static int tcp_pair(int family, int *fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  int l = socket(family, SOCK_STREAM, 0), a;
  memset(&ss, 0, sizeof(ss));
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(*sin);
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_loopback;
    len = sizeof(*sin6);
  }
  CHECK(bind(l, (struct sockaddr *) &ss, len) == 0 && listen(l, 1) == 0);
  CHECK(getsockname(l, (struct sockaddr *) &ss, &len) == 0);
  *fd = socket(family, SOCK_STREAM, 0);
  CHECK(connect(*fd, (struct sockaddr *) &ss, len) == 0);
  a = accept(l, NULL, NULL);
  CHECK(a >= 0);
  close(l);
  return a;
}

/* The traffic class as the OS reports it: IP_TOS on IPv4, IPV6_TCLASS on IPv6. */
static int traffic_class(int family, int fd) {
  int v = -1;
  socklen_t len = sizeof(v);
  if (family == AF_INET) {
    CHECK(getsockopt(fd, IPPROTO_IP, IP_TOS, &v, &len) == 0);
  } else {
    CHECK(getsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &v, &len) == 0);
  }
  return v;
}

static void test_dscp(struct mg_mgr *mgr, int family) {
  struct seen s;
  int fd = -1, a = tcp_pair(family, &fd);
  struct mg_conn c;
  memset(&s, 0, sizeof(s));
  c = mg_wrapfd(mgr, fd, fn, &s);
  CHECK(c.h != 0);
  CHECK(mg_dscp(c, MG_DSCP_EF) == 0);
  CHECK(traffic_class(family, fd) == MG_DSCP_EF << 2);
  CHECK(mg_dscp(c, MG_DSCP_AF(4, 1)) == 0);
  CHECK(traffic_class(family, fd) == 34 << 2);
  CHECK(mg_dscp(c, 64) == MG_ERR_INVALID);
  /* Still a working connection. */
  CHECK(write(a, "ping", 4) == 4);
  poll_until(mgr, &s.read_events, 1);
  CHECK_STR(s.got, "ping");
  mg_close(c);
  poll_until(mgr, &s.closed, 1);
  CHECK(s.closed == 1);
  close(a);
  CHECK(mg_dscp(c, 0) == MG_ERR_STALE);
}

int main(void) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  test_socketpair(&mgr);
  test_pipes(&mgr);
  test_refused(&mgr);
  test_dscp(&mgr, AF_INET);
  test_dscp(&mgr, AF_INET6);
  mg_mgr_free(&mgr);
  return CHECK_SUMMARY();
}
