/*
 * mongoose_hello.c: benches/c/meerkat_hello.c written against Cesanta Mongoose 7.x's own
 * API (struct mg_connection *), so that benches/size.rs and benches/instructions.rs can
 * build the same program on Mongoose from a checkout the user gives (SIZE_BENCH_MONGOOSE,
 * INSN_BENCH_MONGOOSE). Mongoose itself is not part of this repository.
 *
 * usage: mongoose_hello URL WEB_ROOT [max_seconds]
 *   GET /static/...   a file from WEB_ROOT (mg_http_serve_dir; /static/x is WEB_ROOT/static/x)
 *   anything else     200 "hello\n" (text/plain)
 * Prints "ready" on stdout once listening, then serves until killed (or max_seconds pass).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mongoose.h"
#include "bench_probe.h" /* -DBENCH_PROBE only: RAM probes for benches/size.rs */

static const char *s_root = ".";

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_match(hm->uri, mg_str("/static/#"), NULL)) {
      struct mg_http_serve_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.root_dir = s_root;
      mg_http_serve_dir(c, hm, &opts);
    } else {
      mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "hello\n");
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s URL WEB_ROOT [max_seconds]\n", argv[0]);
    return 2;
  }
  s_root = argv[2];
  alarm(argc > 3 ? (unsigned) atoi(argv[3]) : 600);
  mg_log_set(MG_LL_ERROR);
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  if (mg_http_listen(&mgr, argv[1], fn, NULL) == NULL) {
    fprintf(stderr, "mongoose_hello: listen %s failed\n", argv[1]);
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  BENCH_PROBE_INIT();
  for (;;) {
    mg_mgr_poll(&mgr, 1000);
    BENCH_PROBE_POLL();
  }
}
