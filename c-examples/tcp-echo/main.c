/*
 * tcp-echo: a TCP echo server on meerkat.
 *
 *   ./tcp-echo [URL]          default URL: tcp://0.0.0.0:8765
 *
 * Prints "listening on URL" once the listener is up, sends every received byte back to
 * its sender, logs each connection with MG_INFO, and stops cleanly on SIGINT or SIGTERM
 * (every connection gets its MG_EV_CLOSE, then "bye", exit status 0).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meerkat.h"

static volatile sig_atomic_t s_signo; /* set by the signal handler, read by the loop */

static void on_signal(int signo) {
  s_signo = signo;
}

/* Send back everything received and not yet echoed. mg_send queues all or nothing: when
 * the send buffer is full (MG_ERR_FULL) the bytes stay in the receive buffer, reading
 * pauses once that is full too, and we try again on the next MG_EV_WRITE. */
static void echo_pending(struct mg_conn c) {
  struct mg_str d = mg_recv(c);
  if (d.len == 0) return;
  int rc = mg_send(c, d.buf, d.len);
  if (rc == 0) {
    mg_recv_consume(c, d.len);
  } else if (rc != MG_ERR_FULL) {
    MG_ERROR(("conn %llu: send: %s", (unsigned long long) mg_conn_id(c), mg_strerror(rc)));
    mg_close(c);
  }
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_ACCEPT) {
    struct mg_conn_info ci;
    if (mg_conn_info(c, &ci) == 0) {
      MG_INFO(("conn %llu accepted from %M", (unsigned long long) ci.id, mg_print_ip_port, &ci.rem));
    }
  } else if (ev == MG_EV_READ || ev == MG_EV_WRITE) {
    echo_pending(c);
  } else if (ev == MG_EV_CLOSE) {
    struct mg_conn_info ci;
    if (mg_conn_info(c, &ci) == 0 && ci.is_accepted) {
      MG_INFO(("conn %llu closed", (unsigned long long) ci.id));
    }
  }
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "tcp://0.0.0.0:8765";
  struct mg_mgr mgr;

  mg_log_set(MG_LL_INFO);
  if (mg_mgr_init(&mgr) != 0) {
    fprintf(stderr, "mg_mgr_init failed\n");
    return 1;
  }
  struct mg_conn l = mg_listen(&mgr, url, fn, NULL);
  if (l.h == 0) {
    fprintf(stderr, "cannot listen on %s: %s\n", url, mg_strerror(mg_last_error()));
    mg_mgr_free(&mgr);
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal; /* sigaction, not signal(): the handler stays installed */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  printf("listening on %s\n", url);
  fflush(stdout);

  /* A signal interrupts the wait inside mg_mgr_poll, so the loop notices it at once. */
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);

  MG_INFO(("signal %d, stopping", (int) s_signo));
  if (mg_mgr_free(&mgr) != 0) return 1; /* closes every connection */
  printf("bye\n");
  return 0;
}
