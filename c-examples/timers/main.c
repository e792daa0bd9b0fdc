/*
 * timers: global timers, connection-owned timers, and freeing timers, with a transcript.
 *
 *   ./timers [URL]      default URL: tcp://127.0.0.1:0 (any free port)
 *
 * Phase 1, global timers (mg_timer_add):
 *   - a repeating 50 ms timer with MG_TIMER_RUN_NOW: its first call comes at the first
 *     mg_mgr_poll and adds a one-shot 300 ms timer; its second call cancels that one before
 *     it fires; its third call frees itself (safe inside its own callback) and adds
 *   - a one-shot 200 ms timer, which shows that the freed timers' handles are now stale
 *     (MG_ERR_STALE, nothing happens) and then starts phase 2.
 * Phase 2, a connection-owned timer (mg_timer_add_conn): the program connects to its own
 *   listener; the client connection sends "tick N" every 200 ms from its own timer, and after
 *   5 ticks it drains and closes. Its timer dies with it: no tick 6, and mg_timer_free on
 *   its handle returns MG_ERR_STALE.
 *
 * Every line printed is deterministic (no times, no port numbers except the URL given), and
 * the program exits with status 0 after about two seconds. Each timer is
 * added by the event before it, and the delays leave a quarter of a second or more between
 * events whose order the transcript shows, so that a loaded machine that stalls the process
 * for a while does not reorder them (when all were added at start, with 25 to 100 ms
 * between them, a stall at start-up let the one-shot timers fire first).
 */
#include <stdio.h>
#include <string.h>

#include "meerkat.h"

static struct mg_mgr s_mgr;
static struct mg_conn s_listener;
static struct mg_timer s_repeat, s_cancel, s_once, s_tick, s_give_up;
static int s_repeat_calls;
static int s_done; /* 1: finished, 2: gave up */
static const char *s_url;

/* A transcript line, printed and flushed at once (printf-style arguments). */
#define SAY(...) (printf(__VA_ARGS__), printf("\n"), fflush(stdout))

static const char *err_name(int rc) {
  switch (rc) {
    case 0: return "0";
    case MG_ERR_STALE: return "MG_ERR_STALE";
    default: return mg_strerror(rc);
  }
}

static void client_fn(struct mg_conn c, int ev, void *ev_data);
static void once_cb(void *arg);

/* ---- phase 1: global timers ---------------------------------------------------------- */

static void cancelled_cb(void *arg) {
  (void) arg;
  SAY("BUG: the cancelled timer fired");
}

static void repeat_cb(void *arg) {
  (void) arg;
  s_repeat_calls++;
  if (s_repeat_calls == 1) {
    s_cancel = mg_timer_add(&s_mgr, 300, MG_TIMER_ONCE, cancelled_cb, NULL);
    SAY("repeat: call 1 (MG_TIMER_RUN_NOW: at the first poll), adding a 300 ms timer%s",
        s_cancel.h != 0 ? "" : " FAILED");
  } else if (s_repeat_calls == 2) {
    SAY("repeat: call 2, cancelling the 300 ms timer: mg_timer_free = %s",
        err_name(mg_timer_free(s_cancel)));
  } else if (s_repeat_calls == 3) {
    SAY("repeat: call 3, freeing itself: mg_timer_free = %s", err_name(mg_timer_free(s_repeat)));
    s_once = mg_timer_add(&s_mgr, 200, MG_TIMER_ONCE, once_cb, (void *) s_url);
    SAY("repeat: added a 200 ms one-shot timer%s", s_once.h != 0 ? "" : " FAILED");
  } else {
    SAY("BUG: repeat timer called after it freed itself (call %d)", s_repeat_calls);
  }
}

static void once_cb(void *arg) {
  char url[128];
  struct mg_conn_info li;
  struct mg_str host;
  struct mg_conn c;
  const unsigned char *port;
  const char *url_arg = (const char *) arg;

  SAY("once: fired after 200 ms");
  SAY("once: mg_timer_free(repeat timer) = %s (it freed itself)",
      err_name(mg_timer_free(s_repeat)));
  SAY("once: mg_timer_free(cancelled timer) = %s", err_name(mg_timer_free(s_cancel)));
  SAY("once: mg_timer_free(itself) = %s (safe in its own callback)",
      err_name(mg_timer_free(s_once)));

  /* Phase 2: connect to our own listener. A wildcard listen address is reached by loopback. */
  if (mg_conn_info(s_listener, &li) != 0) {
    s_done = 2;
    return;
  }
  host = mg_url_host(url_arg);
  if (host.len == 0 || mg_strcmp(host, mg_str("0.0.0.0")) == 0) host = mg_str("127.0.0.1");
  if (mg_strcmp(host, mg_str("[::]")) == 0) host = mg_str("[::1]");
  port = (const unsigned char *) &li.loc.port; /* network byte order: big-endian */
  mg_snprintf(url, sizeof(url), "tcp://%.*s:%u", (int) host.len, host.buf,
              (unsigned) (port[0] << 8 | port[1]));
  c = mg_connect(&s_mgr, url, client_fn, NULL);
  if (c.h == 0) {
    SAY("mg_connect(%s): %s", url, mg_strerror(mg_last_error()));
    s_done = 2;
  }
}

/* ---- phase 2: a timer owned by a connection ------------------------------------------ */

struct client_state {
  int ticks;
};

static void tick_cb(struct mg_conn c, void *arg) {
  struct client_state *cs = (struct client_state *) mg_conn_data(c);
  (void) arg;
  if (cs == NULL) return;
  cs->ticks++;
  mg_printf(c, "tick %d\n", cs->ticks);
  SAY("tick %d", cs->ticks);
  if (cs->ticks == 5) {
    SAY("client: 5 ticks sent, draining (close once sent)");
    mg_drain(c);
  }
}

static void client_fn(struct mg_conn c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_CONNECT) {
    s_tick = mg_timer_add_conn(c, 200, MG_TIMER_REPEAT, tick_cb, NULL);
    SAY("client: connected, tick timer every 200 ms%s", s_tick.h != 0 ? "" : " FAILED");
  } else if (ev == MG_EV_ERROR) {
    SAY("client: error: %s", (const char *) ev_data);
    s_done = 2;
  } else if (ev == MG_EV_CLOSE) {
    SAY("client: closed");
  }
}

static void finish_cb(void *arg) {
  (void) arg;
  SAY("finish: mg_timer_free(tick timer) = %s (it died with its connection)",
      err_name(mg_timer_free(s_tick)));
  s_done = 1;
}

struct server_state {
  int lines;
};

static void server_fn(struct mg_conn c, int ev, void *ev_data) {
  struct server_state *ss = (struct server_state *) mg_conn_data(c);
  (void) ev_data;
  if (ev == MG_EV_READ && ss != NULL) {
    struct mg_str d = mg_recv(c);
    const char *nl;
    size_t used = 0;
    /* Print each complete line; a partial one waits for the next MG_EV_READ. */
    while (used < d.len && (nl = (const char *) memchr(d.buf + used, '\n', d.len - used)) != NULL) {
      SAY("server: got %.*s", (int) (nl - (d.buf + used)), d.buf + used);
      used = (size_t) (nl - d.buf) + 1;
      ss->lines++;
    }
    mg_recv_consume(c, used);
  } else if (ev == MG_EV_CLOSE && ss != NULL) {
    struct mg_conn_info ci;
    if (mg_conn_info(c, &ci) == 0 && ci.is_accepted) {
      SAY("server: client closed after %d lines", ss->lines);
      /* Wait a little longer than two tick periods: no tick may come any more. */
      mg_timer_add(&s_mgr, 450, MG_TIMER_ONCE, finish_cb, NULL);
    }
  }
}

static void give_up_cb(void *arg) {
  (void) arg;
  SAY("timeout: the demo did not finish in 5 s");
  s_done = 2;
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "tcp://127.0.0.1:0";
  struct mg_stats st;
  int rc;

  if (mg_mgr_init(&s_mgr) != 0) return 1;
  s_listener = mg_listen(&s_mgr, url, server_fn, NULL);
  if (s_listener.h == 0) {
    fprintf(stderr, "cannot listen on %s: %s\n", url, mg_strerror(mg_last_error()));
    mg_mgr_free(&s_mgr);
    return 1;
  }
  s_url = url;
  printf("listening on %s\n", url);
  fflush(stdout);

  s_repeat = mg_timer_add(&s_mgr, 50, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, repeat_cb, NULL);
  s_give_up = mg_timer_add(&s_mgr, 5000, MG_TIMER_ONCE, give_up_cb, NULL);

  while (s_done == 0) mg_mgr_poll(&s_mgr, 1000);

  mg_timer_free(s_give_up);
  if (mg_mgr_stats(&s_mgr, &st) == 0) {
    SAY("stats: live_conns=%u (the listener) live_timers=%u", (unsigned) st.live_conns,
        (unsigned) st.live_timers);
  }

  rc = mg_mgr_free(&s_mgr); /* closes the listener, frees the remaining timers */
  printf("mg_mgr_free = %s\n", err_name(rc));
  printf("bye\n");
  return s_done == 1 && rc == 0 ? 0 : 1;
}
