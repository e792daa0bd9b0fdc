/*
 * meerkat_hello.c: the meerkat side of benches/http.rs, a minimal HTTP server written
 * against the public API the way firmware ported from Mongoose would be.
 *
 * usage: meerkat_hello URL WEB_ROOT [max_seconds]
 *   GET /static/...   a file from WEB_ROOT (mg_http_serve_dir; /static/x is WEB_ROOT/static/x)
 *   anything else     200 "hello\n" (text/plain)
 * Prints "ready" on stdout once listening, then serves until SIGTERM or SIGINT (then frees
 * the manager, prints "bye" and exits 0), or until max_seconds pass (alarm()).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meerkat.h"
#include "bench_probe.h" /* -DBENCH_PROBE only: RAM probes for benches/size.rs */

static const char *s_root = ".";
static volatile sig_atomic_t s_signo; /* set by the signal handler, read by the loop */

static void on_signal(int signo) {
  s_signo = signo;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
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
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  struct mg_mgr mgr;
  if (mg_mgr_init(&mgr) != 0) return 1;
  if (mg_http_listen(&mgr, argv[1], fn, NULL).h == 0) {
    fprintf(stderr, "meerkat_hello: listen %s: %s\n", argv[1], mg_strerror(mg_last_error()));
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  BENCH_PROBE_INIT();
  while (s_signo == 0) {
    mg_mgr_poll(&mgr, 1000);
    BENCH_PROBE_POLL();
  }
  mg_mgr_free(&mgr);
  printf("bye\n");
  return 0;
}
