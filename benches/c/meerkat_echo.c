/*
 * meerkat_echo.c: the meerkat side of benches/echo.rs, the same echo server as
 * poll_echo.c written against the meerkat API, as firmware ported from Mongoose would be.
 *
 * usage: meerkat_echo [max_seconds]
 * Listens on 127.0.0.1 on a free port, prints the port number on stdout, then echoes every
 * byte it reads back to its sender until killed (or max_seconds pass: alarm()).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "meerkat.h"
#include "bench_probe.h" /* -DBENCH_PROBE only: RAM probes for benches/size.rs */

static void fn(struct mg_conn c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_READ) {
    struct mg_str r = mg_recv(c);
    /* All or nothing: on MG_ERR_FULL the bytes stay received and are echoed later. */
    if (mg_send(c, r.buf, r.len) == 0) mg_recv_consume(c, r.len);
  }
}

int main(int argc, char **argv) {
  alarm(argc > 1 ? (unsigned) atoi(argv[1]) : 600);
  struct mg_mgr mgr;
  if (mg_mgr_init(&mgr) != 0) return 1;
  struct mg_conn l = mg_listen(&mgr, "tcp://127.0.0.1:0", fn, NULL);
  struct mg_conn_info info;
  if (l.h == 0 || mg_conn_info(l, &info) != 0) {
    fprintf(stderr, "meerkat_echo: listen: %s\n", mg_strerror(mg_last_error()));
    return 1;
  }
  printf("%d\n", ntohs(info.loc.port));
  fflush(stdout);
  BENCH_PROBE_INIT();
  for (;;) {
    mg_mgr_poll(&mgr, 50);
    BENCH_PROBE_POLL();
  }
}
