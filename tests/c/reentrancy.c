/*
 * Re-entrancy (G7) and "every connection ends, once" (G3), from C, as a user meets them.
 *
 * One program, one thread, two managers. Each scenario drives real TCP connections over
 * 127.0.0.1 and checks what the handlers see: the calls a handler makes on its own or other
 * connections, the events that follow, and that nothing is delivered twice or after the end.
 * Built with AddressSanitizer + UBSan by tests/c_examples.rs, which also reads the last line:
 * "N passed, 0 failed". A failed CHECK prints file:line and exits with status 1 at once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meerkat.h"

static int s_passed;

static void fail_now(const char *file, int line, const char *what) {
  printf("%s:%d: CHECK failed: %s\n%d passed, 1 failed\n", file, line, what, s_passed);
  fflush(stdout);
  _Exit(1); /* from inside a handler too: no cleanup that could hide the first failure */
}

#define CHECK(expr)                                          \
  do {                                                       \
    if (expr) {                                              \
      s_passed++;                                            \
    } else {                                                 \
      fail_now(__FILE__, __LINE__, #expr);                   \
    }                                                        \
  } while (0)

/* For bookkeeping in code that runs a timing-dependent number of times (every poll, every
 * MG_EV_READ): fails like CHECK but is not counted, so "N passed" is the same on every run. */
#define REQUIRE(expr)                                        \
  do {                                                       \
    if (!(expr)) fail_now(__FILE__, __LINE__, #expr);        \
  } while (0)

#define CHECK_INT(a, b)                                                             \
  do {                                                                              \
    long long a_ = (long long) (a), b_ = (long long) (b);                           \
    if (a_ == b_) {                                                                 \
      s_passed++;                                                                   \
    } else {                                                                        \
      char m_[256];                                                                 \
      snprintf(m_, sizeof(m_), "%s == %s (%lld != %lld)", #a, #b, a_, b_);          \
      fail_now(__FILE__, __LINE__, m_);                                             \
    }                                                                               \
  } while (0)

#define CHECK_STR(a, b)                                                             \
  do {                                                                              \
    const char *a_ = (a), *b_ = (b);                                                \
    if (a_ != NULL && strcmp(a_, b_) == 0) {                                        \
      s_passed++;                                                                   \
    } else {                                                                        \
      char m_[256];                                                                 \
      snprintf(m_, sizeof(m_), "%s == \"%s\" (got \"%s\")", #a, b_, a_ ? a_ : "NULL"); \
      fail_now(__FILE__, __LINE__, m_);                                             \
    }                                                                               \
  } while (0)

/* ---- event tracking ------------------------------------------------------------------ */

/* Kept in each connection's mg_conn_data() storage: proves it is zeroed at MG_EV_OPEN and
 * survives from one event to the next. seq spells the events: O open, A accept, C connect,
 * R read (repeats collapsed), W wakeup, E error, X close, ? anything else. POLL and WRITE are
 * left out (how many there are depends on timing). */
#define MAGIC 0x6d65726bu
struct cdata {
  uint32_t magic;
  uint8_t n;
  char seq[24];
};
typedef char cdata_fits_in_mg_data[sizeof(struct cdata) <= MG_DATA_SIZE ? 1 : -1];

/* Connections that got MG_EV_CLOSE, with their event sequence (conn_data is gone after). */
struct closed_rec {
  uint64_t h;
  char seq[24];
};
static struct closed_rec s_closed[128];
static int s_nclosed, s_opened;

static struct closed_rec *closed_rec(struct mg_conn c) {
  int i;
  for (i = 0; i < s_nclosed; i++) {
    if (s_closed[i].h == c.h) return &s_closed[i];
  }
  return NULL;
}

static int close_count(struct mg_conn c) {
  int i, n = 0;
  for (i = 0; i < s_nclosed; i++) n += s_closed[i].h == c.h;
  return n;
}

static const char *closed_seq(struct mg_conn c) {
  struct closed_rec *r = closed_rec(c);
  return r == NULL ? NULL : r->seq;
}

static const char *live_seq(struct mg_conn c) {
  struct cdata *cd = (struct cdata *) mg_conn_data(c);
  return cd == NULL ? NULL : cd->seq;
}

static void track(struct mg_conn c, int ev) {
  static const unsigned char zero[MG_DATA_SIZE];
  struct cdata *cd;
  char ch;
  if (ev == MG_EV_POLL || ev == MG_EV_WRITE) return;
  cd = (struct cdata *) mg_conn_data(c);
  if (cd == NULL) fail_now(__FILE__, __LINE__, "mg_conn_data(c) != NULL inside a handler");
  if (ev == MG_EV_OPEN) {
    CHECK(memcmp(cd, zero, MG_DATA_SIZE) == 0);
    cd->magic = MAGIC;
    s_opened++;
  }
  if (cd->magic != MAGIC) fail_now(__FILE__, __LINE__, "conn_data kept across events");
  switch (ev) {
    case MG_EV_OPEN: ch = 'O'; break;
    case MG_EV_ACCEPT: ch = 'A'; break;
    case MG_EV_CONNECT: ch = 'C'; break;
    case MG_EV_READ: ch = 'R'; break;
    case MG_EV_WAKEUP: ch = 'W'; break;
    case MG_EV_ERROR: ch = 'E'; break;
    case MG_EV_CLOSE: ch = 'X'; break;
    default: ch = '?'; break;
  }
  if (!(ch == 'R' && cd->n > 0 && cd->seq[cd->n - 1] == 'R') && cd->n < sizeof(cd->seq) - 1) {
    cd->seq[cd->n++] = ch;
  }
  if (ev == MG_EV_CLOSE) {
    CHECK_INT(close_count(c), 0); /* exactly one MG_EV_CLOSE per connection */
    if (s_nclosed == (int) (sizeof(s_closed) / sizeof(s_closed[0]))) {
      fail_now(__FILE__, __LINE__, "too many connections for the close log");
    }
    s_closed[s_nclosed].h = c.h;
    memcpy(s_closed[s_nclosed].seq, cd->seq, sizeof(cd->seq));
    s_nclosed++;
  }
}

/* ---- managers, clients, polling ------------------------------------------------------ */

static struct mg_mgr s_mgr, s_mgr2;
static int s_mgr2_live;
static char s_url[64]; /* the main listener, tcp://127.0.0.1:PORT */

struct client {
  struct mg_conn c;
  char rx[256];
  size_t rxlen;
  int connected, closed;
};

static int rx_is(const struct client *cl, const char *s) {
  return cl->rxlen == strlen(s) && memcmp(cl->rx, s, cl->rxlen) == 0;
}

static void cli_fn(struct mg_conn c, int ev, void *ev_data) {
  struct client *cl = (struct client *) mg_fn_data(c);
  (void) ev_data;
  track(c, ev);
  if (ev == MG_EV_CONNECT) {
    cl->connected++;
  } else if (ev == MG_EV_READ) {
    struct mg_str d = mg_recv(c);
    size_t n = d.len < sizeof(cl->rx) - cl->rxlen ? d.len : sizeof(cl->rx) - cl->rxlen;
    memcpy(cl->rx + cl->rxlen, d.buf, n);
    cl->rxlen += n;
    REQUIRE(mg_recv_consume(c, d.len) == 0);
  } else if (ev == MG_EV_CLOSE) {
    cl->closed++;
  }
}

static void connect_client(struct mg_mgr *mgr, struct client *cl, const char *first_line) {
  memset(cl, 0, sizeof(*cl));
  cl->c = mg_connect(mgr, s_url, cli_fn, cl);
  CHECK(cl->c.h != 0);
  /* Queued before the connection is established. */
  CHECK_INT(mg_send(cl->c, first_line, strlen(first_line)), 0);
}

static void poll_all(void) {
  REQUIRE(mg_mgr_poll(&s_mgr, 2) == 0);
  if (s_mgr2_live) REQUIRE(mg_mgr_poll(&s_mgr2, 2) == 0);
}

/* Poll both managers until cond holds; fail after 5 s. */
#define WAIT_FOR(cond)                                                              \
  do {                                                                              \
    uint64_t t0_ = mg_millis();                                                     \
    while (!(cond)) {                                                               \
      if (mg_millis() - t0_ > 5000) fail_now(__FILE__, __LINE__, "timed out: " #cond); \
      poll_all();                                                                   \
    }                                                                               \
    s_passed++;                                                                     \
  } while (0)

static void poll_for_ms(unsigned ms) {
  uint64_t t0 = mg_millis();
  while (mg_millis() - t0 < ms) poll_all();
}

/* ---- the server side of the main listener -------------------------------------------- */

static struct mg_conn s_closed_in_read; /* scenario A: the server conn that closed itself */
static struct mg_conn s_target;         /* scenario C: where "relay" lines go */
static int s_connect_in_accept;         /* scenario B: open a connection in MG_EV_ACCEPT */
static struct client s_inner;           /* scenario B: that connection */

static void srv_line(struct mg_conn c, struct mg_str d, size_t len) {
  struct mg_str line = mg_str_n(d.buf, len);
  if (mg_strcmp(line, mg_str("close-in-read")) == 0) {
    /* Close ourselves in our own MG_EV_READ, then keep using what we were given. */
    CHECK_INT(mg_close(c), 0);
    CHECK_INT(mg_close(c), 0); /* idempotent */
    CHECK_INT(mg_send(c, "x", 1), MG_ERR_CLOSING);
    CHECK(memcmp(d.buf, "close-in-read\n", 14) == 0); /* the mg_recv view is still readable */
    CHECK_INT(mg_recv(c).len, d.len);
    CHECK(mg_conn_data(c) != NULL);
    s_closed_in_read = c;
    return; /* nothing consumed: the bytes go away with the connection */
  }
  if (mg_strcmp(line, mg_str("target")) == 0) {
    s_target = c;
    CHECK_INT(mg_send(c, "registered\n", 11), 0);
  } else if (len > 6 && memcmp(line.buf, "relay ", 6) == 0) {
    /* Send to ANOTHER connection from inside this one's handler. */
    CHECK_INT(mg_send(s_target, line.buf + 6, len - 6 + 1), 0); /* with its "\n" */
    CHECK_INT(mg_send(s_closed_in_read, "x", 1), MG_ERR_STALE); /* a gone one: refused */
    CHECK_INT(mg_send(c, "relayed\n", 8), 0);
  } else if (mg_strcmp(line, mg_str("busy")) == 0) {
    struct mg_stats st;
    CHECK_INT(mg_mgr_poll(&s_mgr, 0), MG_ERR_BUSY);
    CHECK_INT(mg_mgr_free(&s_mgr), MG_ERR_BUSY);
    CHECK_INT(mg_mgr_stats(&s_mgr, &st), 0); /* still working */
    CHECK_INT(mg_send(c, "busy-ok\n", 8), 0);
  } else if (len >= 5 && memcmp(line.buf, "echo ", 5) == 0) {
    CHECK_INT(mg_send(c, line.buf + 5, len - 5 + 1), 0);
  } else {
    fail_now(__FILE__, __LINE__, "unknown command");
  }
  CHECK_INT(mg_recv_consume(c, len + 1), 0);
}

static void srv_fn(struct mg_conn c, int ev, void *ev_data) {
  (void) ev_data;
  track(c, ev);
  if (ev == MG_EV_ACCEPT && s_connect_in_accept) {
    s_connect_in_accept = 0;
    memset(&s_inner, 0, sizeof(s_inner));
    s_inner.c = mg_connect(&s_mgr, s_url, cli_fn, &s_inner);
    CHECK(s_inner.c.h != 0);
    CHECK_INT(mg_send(s_inner.c, "echo inner\n", 11), 0);
  } else if (ev == MG_EV_READ) {
    for (;;) {
      struct mg_str d = mg_recv(c);
      const char *nl = d.len > 0 ? (const char *) memchr(d.buf, '\n', d.len) : NULL;
      if (nl == NULL) break;
      srv_line(c, d, (size_t) (nl - d.buf));
      if (s_closed_in_read.h == c.h) break;
    }
  }
}

/* ---- timers -------------------------------------------------------------------------- */

static struct mg_timer s_self, s_pair[2];
static int s_self_calls, s_pair_calls[2], s_pair_first = -1, s_pair_free_rc = 1;

static void self_free_cb(void *arg) {
  (void) arg;
  s_self_calls++;
  CHECK_INT(mg_timer_free(s_self), 0); /* free ourselves from our own callback */
  CHECK_INT(mg_timer_free(s_self), MG_ERR_STALE);
  CHECK_INT(mg_mgr_poll(&s_mgr, 0), MG_ERR_BUSY); /* timer callbacks run inside the poll too */
  CHECK_INT(mg_mgr_free(&s_mgr), MG_ERR_BUSY);
}

static void pair_cb(void *arg) {
  int i = (int) (intptr_t) arg;
  s_pair_calls[i]++;
  if (s_pair_first < 0) {
    /* Both were due in this poll: the one called first frees the other. */
    s_pair_first = i;
    s_pair_free_rc = mg_timer_free(s_pair[1 - i]);
  }
}

static struct mg_timer s_conn_timer;
static int s_conn_timer_calls;

static void conn_timer_cb(struct mg_conn c, void *arg) {
  (void) arg;
  s_conn_timer_calls++;
  CHECK_INT(mg_close(c), 0); /* close the owner from its own timer... */
  CHECK_INT(mg_timer_free(s_conn_timer), 0); /* ...and free the timer: both fine */
}

/* ---- scenario E: in MG_EV_CLOSE, close the manager's last other connection, open one -- */

static struct mg_conn s_ea, s_eb;
static struct client s_en;

static void e_fn(struct mg_conn c, int ev, void *ev_data) {
  (void) ev_data;
  track(c, ev);
  if (ev == MG_EV_CLOSE && c.h == s_ea.h) {
    CHECK_INT(mg_close(s_eb), 0);
    connect_client(&s_mgr2, &s_en, "echo new\n");
  }
}

/* -------------------------------------------------------------------------------------- */

int main(void) {
  struct mg_conn_info li;
  struct mg_stats st;
  struct client a, b, t, r, y, z;
  const unsigned char *port;
  int i;

  CHECK_INT(mg_mgr_init(&s_mgr), 0);
  struct mg_conn listener = mg_listen(&s_mgr, "tcp://127.0.0.1:0", srv_fn, NULL);
  CHECK(listener.h != 0);
  CHECK_INT(mg_conn_info(listener, &li), 0);
  port = (const unsigned char *) &li.loc.port; /* network byte order: big-endian */
  snprintf(s_url, sizeof(s_url), "tcp://127.0.0.1:%u", (unsigned) (port[0] << 8 | port[1]));
  CHECK_STR(live_seq(listener), "O");

  /* A. Close inside our own MG_EV_READ: one MG_EV_CLOSE, then the handle is stale. */
  connect_client(&s_mgr, &a, "close-in-read\n");
  WAIT_FOR(s_closed_in_read.h != 0 && close_count(s_closed_in_read) == 1 && a.closed == 1);
  poll_for_ms(50);
  CHECK_INT(close_count(s_closed_in_read), 1);
  CHECK_STR(closed_seq(s_closed_in_read), "OARX"); /* OPEN -> ACCEPT -> READ -> CLOSE */
  CHECK_STR(closed_seq(a.c), "OCX");                /* OPEN -> CONNECT -> CLOSE (EOF) */
  CHECK_INT(a.closed, 1);
  CHECK_INT(mg_send(s_closed_in_read, "x", 1), MG_ERR_STALE);
  CHECK_INT(mg_close(s_closed_in_read), MG_ERR_STALE);
  CHECK_INT(mg_recv(s_closed_in_read).len, 0);
  CHECK(mg_conn_data(s_closed_in_read) == NULL);
  CHECK_INT(mg_conn_info(s_closed_in_read, &li), MG_ERR_STALE);

  /* B. mg_connect inside MG_EV_ACCEPT. */
  s_connect_in_accept = 1;
  connect_client(&s_mgr, &b, "echo b\n");
  WAIT_FOR(rx_is(&b, "b\n") && rx_is(&s_inner, "inner\n"));
  CHECK_STR(live_seq(s_inner.c), "OCR");
  CHECK_INT(mg_close(b.c), 0);
  CHECK_INT(mg_close(s_inner.c), 0);
  WAIT_FOR(b.closed && s_inner.closed);
  CHECK_STR(closed_seq(b.c), "OCRX");
  CHECK_STR(closed_seq(s_inner.c), "OCRX");

  /* C. mg_send to another connection from inside a handler. */
  connect_client(&s_mgr, &t, "target\n");
  WAIT_FOR(rx_is(&t, "registered\n"));
  connect_client(&s_mgr, &r, "relay hello from r\n");
  WAIT_FOR(rx_is(&r, "relayed\n") && rx_is(&t, "registered\nhello from r\n"));
  mg_close(t.c);
  mg_close(r.c);
  WAIT_FOR(t.closed && r.closed && close_count(s_target) == 1);

  /* F. mg_mgr_poll and mg_mgr_free from inside an event handler: MG_ERR_BUSY. */
  connect_client(&s_mgr, &y, "busy\n");
  WAIT_FOR(rx_is(&y, "busy-ok\n"));
  mg_close(y.c);
  WAIT_FOR(y.closed);

  /* D1. A repeating timer frees itself in its own callback: called once, then stale. */
  s_self = mg_timer_add(&s_mgr, 5, MG_TIMER_REPEAT, self_free_cb, NULL);
  CHECK(s_self.h != 0);
  WAIT_FOR(s_self_calls > 0);
  poll_for_ms(50);
  CHECK_INT(s_self_calls, 1);
  CHECK_INT(mg_timer_free(s_self), MG_ERR_STALE);

  /* D2. Two timers due in the same poll: the first frees the second, which never runs. */
  s_pair[0] = mg_timer_add(&s_mgr, 1000, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, pair_cb, (void *) 0);
  s_pair[1] = mg_timer_add(&s_mgr, 1000, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, pair_cb, (void *) 1);
  CHECK(s_pair[0].h != 0 && s_pair[1].h != 0);
  WAIT_FOR(s_pair_first >= 0);
  poll_for_ms(50);
  CHECK_INT(s_pair_free_rc, 0);
  CHECK_INT(s_pair_calls[0] + s_pair_calls[1], 1);
  CHECK_INT(mg_timer_free(s_pair[1 - s_pair_first]), MG_ERR_STALE);
  CHECK_INT(mg_timer_free(s_pair[s_pair_first]), 0); /* the repeating survivor */
  CHECK_INT(mg_timer_free(s_pair[s_pair_first]), MG_ERR_STALE);

  /* D3. A connection's timer closes its connection and frees itself. */
  connect_client(&s_mgr, &z, "echo z\n");
  WAIT_FOR(rx_is(&z, "z\n"));
  s_conn_timer = mg_timer_add_conn(z.c, 10, MG_TIMER_REPEAT, conn_timer_cb, NULL);
  CHECK(s_conn_timer.h != 0);
  WAIT_FOR(z.closed);
  poll_for_ms(50);
  CHECK_INT(s_conn_timer_calls, 1);
  CHECK_STR(closed_seq(z.c), "OCRX");

  /* E. In MG_EV_CLOSE of A, close the manager's last other connection B and open a new one. */
  CHECK_INT(mg_mgr_init(&s_mgr2), 0);
  s_mgr2_live = 1;
  s_ea = mg_listen(&s_mgr2, "tcp://127.0.0.1:0", e_fn, NULL);
  s_eb = mg_listen(&s_mgr2, "tcp://127.0.0.1:0", e_fn, NULL);
  CHECK(s_ea.h != 0 && s_eb.h != 0);
  CHECK_INT(mg_mgr_stats(&s_mgr2, &st), 0);
  CHECK_INT(st.live_conns, 2);
  CHECK_INT(mg_close(s_ea), 0);
  WAIT_FOR(close_count(s_ea) == 1 && close_count(s_eb) == 1 && rx_is(&s_en, "new\n"));
  CHECK_STR(closed_seq(s_ea), "OX");
  CHECK_STR(closed_seq(s_eb), "OX");
  CHECK_STR(live_seq(s_en.c), "OCR");
  CHECK_INT(mg_mgr_stats(&s_mgr2, &st), 0);
  CHECK_INT(st.live_conns, 1);
  CHECK_INT(mg_close(s_en.c), 0);
  WAIT_FOR(s_en.closed == 1);
  CHECK_INT(mg_mgr_stats(&s_mgr2, &st), 0);
  CHECK_INT(st.live_conns, 0);
  CHECK_INT(mg_mgr_free(&s_mgr2), 0);
  s_mgr2_live = 0;

  /* The end: every connection closed exactly once, nothing alive, a clean free. */
  CHECK_INT(mg_close(listener), 0);
  WAIT_FOR(mg_mgr_stats(&s_mgr, &st) == 0 && st.live_conns == 0);
  CHECK_INT(st.live_timers, 0);
  CHECK_INT(s_nclosed, s_opened);
  for (i = 0; i < s_nclosed; i++) {
    CHECK_INT(s_closed[i].seq[strlen(s_closed[i].seq) - 1], 'X');
  }
  CHECK_INT(mg_mgr_free(&s_mgr), 0);
  CHECK_INT(mg_send(a.c, "x", 1), MG_ERR_STALE);

  printf("%d passed, 0 failed\n", s_passed);
  return 0;
}
