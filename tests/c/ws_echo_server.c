/*
 * A WebSocket echo server written only with Mongoose 7.22's names, through mongoose.h:
 *
 *   ./ws_echo_server URL [big]
 *
 * Every HTTP request is upgraded (mg_ws_upgrade(c, hm, NULL)); every message is sent back
 * with its opcode (mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 0x0f)). With "big",
 * ws_max_message, max_recv and max_send are raised to 64 MiB (the Autobahn configuration).
 * Prints "listening on URL"; on SIGTERM prints "opens=N msgs=N closes=N live=N" (live: the
 * manager's live connections before shutdown, the listener included), then "bye".
 */
#include "mongoose.h"

static volatile sig_atomic_t s_signo;
static unsigned long s_opens, s_msgs, s_closes;

static void on_signal(int signo) {
  s_signo = signo;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    mg_ws_upgrade(c, hm, NULL);
  } else if (ev == MG_EV_WS_OPEN) {
    s_opens++;
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    s_msgs++;
    mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 0x0f);
  } else if (ev == MG_EV_CLOSE) {
    struct mg_conn_info ci;
    if (mg_conn_info(c, &ci) == 0 && ci.is_accepted) s_closes++;
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct mg_stats st;
  struct sigaction sa;
  const char *url = argc > 1 ? argv[1] : "http://127.0.0.1:9001";
  if (mg_mgr_init(&mgr) != 0) return 1;
  if (argc > 2 && strcmp(argv[2], "big") == 0) {
    struct mg_limits l;
    mg_mgr_get_limits(&mgr, &l);
    l.ws_max_message = l.max_recv = l.max_send = 64u << 20;
    if (mg_mgr_set_limits(&mgr, &l) != 0) return 1;
  }
  if (mg_http_listen(&mgr, url, fn, NULL).h == 0) {
    fprintf(stderr, "cannot listen on %s\n", url);
    return 1;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  printf("listening on %s\n", url);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_stats(&mgr, &st);
  printf("opens=%lu msgs=%lu closes=%lu live=%u\n", s_opens, s_msgs, s_closes, st.live_conns);
  mg_mgr_free(&mgr);
  printf("bye\n");
  return 0;
}
