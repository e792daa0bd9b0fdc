/*
 * meerkat_ws.c: the WebSocket server of benches/ws.rs, with meerkat's Mongoose-style API.
 *
 * usage: meerkat_ws URL [max_seconds]
 *   every HTTP request is upgraded (mg_ws_upgrade); a message is echoed with its opcode,
 *   except the text "bcast K", which sends K binary messages of 1024 bytes to every
 *   WebSocket with mg_ws_wakeup_all (the thread-safe broadcast, called here on the loop).
 * Prints "ready" once listening, then serves until killed (or max_seconds pass).
 * benches/c/mongoose_ws.c is the same program on Mongoose's own API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meerkat.h"

static struct mg_mgr s_mgr;
static char s_blob[1024];

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    mg_ws_upgrade(c, (struct mg_http_message *) ev_data, NULL);
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    if (wm->data.len > 6 && memcmp(wm->data.buf, "bcast ", 6) == 0) {
      int i, k = atoi(wm->data.buf + 6);
      for (i = 0; i < k; i++) mg_ws_wakeup_all(&s_mgr, s_blob, sizeof(s_blob), WEBSOCKET_OP_BINARY);
    } else {
      mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 0x0f);
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s URL [max_seconds]\n", argv[0]);
    return 2;
  }
  alarm(argc > 2 ? (unsigned) atoi(argv[2]) : 600);
  memset(s_blob, 'x', sizeof(s_blob));
  mg_log_set(MG_LL_ERROR);
  if (mg_mgr_init(&s_mgr) != 0) return 1;
  if (mg_http_listen(&s_mgr, argv[1], fn, NULL).h == 0) {
    fprintf(stderr, "meerkat_ws: listen %s failed\n", argv[1]);
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) mg_mgr_poll(&s_mgr, 1000);
}
