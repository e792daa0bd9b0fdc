/*
 * websocket-server: a WebSocket echo server with a page that uses it.
 *
 *   ./websocket-server [URL] [WEB_ROOT]     defaults: http://0.0.0.0:8000, web_root
 *
 * GET /websocket is upgraded to a WebSocket (mg_ws_upgrade): every message comes back with
 * its opcode, and every second the server pushes {"time": <ms since the epoch>} as text
 * (a timer owned by the connection, mg_timer_add_conn, which dies with it). Everything else
 * is a file from WEB_ROOT (index.html opens the WebSocket, echoes what you type and shows the
 * pushed time). Prints "listening on URL", logs each WebSocket opened and closed, and stops
 * cleanly on SIGINT or SIGTERM (every connection gets its MG_EV_CLOSE, then "bye", exit 0).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meerkat.h"

static volatile sig_atomic_t s_signo;
static const char *s_root = "web_root";
static unsigned long s_opened, s_closed, s_echoed, s_pushed;

static void on_signal(int signo) {
  s_signo = signo;
}

static int is_websocket(struct mg_conn c) {
  struct mg_conn_info ci; /* Mongoose: c->is_websocket */
  return mg_conn_info(c, &ci) == 0 && ci.is_websocket;
}

/* Every second, for each WebSocket: the wall-clock time. */
static void push_time(struct mg_conn c, void *arg) {
  struct timespec ts;
  (void) arg;
  clock_gettime(CLOCK_REALTIME, &ts);
  unsigned long long ms = (unsigned long long) ts.tv_sec * 1000ULL + (unsigned long long) (ts.tv_nsec / 1000000);
  if (mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{%m:%llu}", MG_ESC("time"), ms) > 0) s_pushed++;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_match(hm->uri, mg_str("/websocket"), NULL)) {
      mg_ws_upgrade(c, hm, NULL); /* answers 400/426 itself when it is not an upgrade */
    } else {
      struct mg_http_serve_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.root_dir = s_root;
      mg_http_serve_dir(c, hm, &opts);
    }
  } else if (ev == MG_EV_WS_OPEN) {
    s_opened++;
    MG_INFO(("conn %llu: WebSocket open", (unsigned long long) mg_conn_id(c)));
    mg_timer_add_conn(c, 1000, MG_TIMER_REPEAT, push_time, NULL);
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    if (mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 0x0f) >= 0) s_echoed++;
  } else if (ev == MG_EV_CLOSE && is_websocket(c)) {
    s_closed++;
    MG_INFO(("conn %llu: WebSocket closed", (unsigned long long) mg_conn_id(c)));
  }
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "http://0.0.0.0:8000";
  struct mg_mgr mgr;
  struct sigaction sa;
  if (argc > 2) s_root = argv[2];
  mg_log_set(MG_LL_INFO);
  if (mg_mgr_init(&mgr) != 0) return 1;
  if (mg_http_listen(&mgr, url, fn, NULL).h == 0) {
    fprintf(stderr, "cannot listen on %s: %s\n", url, mg_strerror(mg_last_error()));
    mg_mgr_free(&mgr);
    return 1;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  printf("listening on %s\n", url);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  printf("websockets opened=%lu closed=%lu echoed=%lu pushed=%lu\n", s_opened, s_closed, s_echoed, s_pushed);
  printf("bye\n");
  return 0;
}
