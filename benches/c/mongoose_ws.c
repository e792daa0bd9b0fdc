/*
 * mongoose_ws.c: benches/c/meerkat_ws.c written against Cesanta Mongoose 7.x's own API
 * (struct mg_connection *), built by benches/ws.rs from a Mongoose checkout the user gives
 * (INSN_BENCH_MONGOOSE). Mongoose itself is not part of this repository.
 *
 * usage: mongoose_ws URL [max_seconds]
 *   every HTTP request is upgraded; a message is echoed with its opcode, except the text
 *   "bcast K", which sends K binary messages of 1024 bytes to every WebSocket (the loop over
 *   mgr->conns that Mongoose programs use to broadcast).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mongoose.h"

static char s_blob[1024];

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    mg_ws_upgrade(c, (struct mg_http_message *) ev_data, NULL);
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    if (wm->data.len > 6 && memcmp(wm->data.buf, "bcast ", 6) == 0) {
      int i, k = atoi(wm->data.buf + 6);
      struct mg_connection *t;
      for (i = 0; i < k; i++) {
        for (t = c->mgr->conns; t != NULL; t = t->next) {
          if (t->is_websocket) mg_ws_send(t, s_blob, sizeof(s_blob), WEBSOCKET_OP_BINARY);
        }
      }
    } else {
      mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 0x0f);
    }
  }
}

int main(int argc, char **argv) {
  struct mg_mgr mgr;
  if (argc < 2) {
    fprintf(stderr, "usage: %s URL [max_seconds]\n", argv[0]);
    return 2;
  }
  alarm(argc > 2 ? (unsigned) atoi(argv[2]) : 600);
  memset(s_blob, 'x', sizeof(s_blob));
  mg_log_set(MG_LL_ERROR);
  mg_mgr_init(&mgr);
  if (mg_http_listen(&mgr, argv[1], fn, NULL) == NULL) {
    fprintf(stderr, "mongoose_ws: listen %s failed\n", argv[1]);
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) mg_mgr_poll(&mgr, 1000);
}
