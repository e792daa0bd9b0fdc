/*
 * mongoose_echo.c: c-examples/tcp-echo written against Cesanta Mongoose 7.x's own API, for
 * the size comparison in benches/size.rs (built from a Mongoose checkout the user gives;
 * Mongoose itself is not part of this repository).
 *
 *   ./mongoose_echo [URL]     default URL: tcp://0.0.0.0:8765
 *
 * Prints "listening on URL" once the listener is up, sends every received byte back to
 * its sender, logs each connection with MG_INFO, and stops cleanly on SIGINT or SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongoose.h"
#include "bench_probe.h" /* -DBENCH_PROBE only: RAM probes for benches/size.rs */

static volatile sig_atomic_t s_signo;

static void on_signal(int signo) {
  s_signo = signo;
}

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_ACCEPT) {
    MG_INFO(("conn %lu accepted from %M", c->id, mg_print_ip_port, &c->rem));
  } else if (ev == MG_EV_READ) {
    if (c->recv.len > 0 && mg_send(c, c->recv.buf, c->recv.len)) c->recv.len = 0;
  } else if (ev == MG_EV_CLOSE && c->is_accepted) {
    MG_INFO(("conn %lu closed", c->id));
  }
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "tcp://0.0.0.0:8765";
  struct mg_mgr mgr;

  mg_log_set(MG_LL_INFO);
  mg_mgr_init(&mgr);
  if (mg_listen(&mgr, url, fn, NULL) == NULL) {
    fprintf(stderr, "cannot listen on %s\n", url);
    mg_mgr_free(&mgr);
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  printf("listening on %s\n", url);
  fflush(stdout);

  BENCH_PROBE_INIT();
  while (s_signo == 0) {
    mg_mgr_poll(&mgr, 1000);
    BENCH_PROBE_POLL();
  }

  MG_INFO(("signal %d, stopping", (int) s_signo));
  mg_mgr_free(&mgr);
  printf("bye\n");
  return 0;
}
