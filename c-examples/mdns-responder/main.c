/*
 * mdns-responder: answer "NAME.local" mDNS queries with this machine's address.
 *
 *   ./mdns-responder [NAME] [URL]   defaults: meerkat, the mDNS group (mg_mdns_listen)
 *
 * Prints "mDNS responder for NAME.local on URL" once listening, one "request NAME" line per
 * A query for our name (answered by meerkat: mg_mdns_listen's fn_data is the name), and
 * stops cleanly on SIGINT or SIGTERM ("bye", exit status 0). A URL such as
 * udp://127.0.0.1:5353 listens on a unicast address instead (for tests).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "meerkat.h"

static volatile sig_atomic_t s_signo;

static void on_signal(int signo) {
  s_signo = signo;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_MDNS_REQ) {
    struct mg_mdns_req *req = (struct mg_mdns_req *) ev_data;
    /* is_resp is already true for A queries for our name: meerkat answers them. */
    if (req->is_resp) {
      printf("request %.*s\n", (int) req->reqname.len, req->reqname.buf);
      fflush(stdout);
    }
  }
  (void) c;
}

int main(int argc, char *argv[]) {
  char *name = "meerkat";
  const char *url = NULL;
  struct mg_mgr mgr;
  int i;

  for (i = 1; i < argc; i++) { /* a URL has "://", anything else is the name */
    if (strstr(argv[i], "://") != NULL) {
      url = argv[i];
    } else {
      name = argv[i];
    }
  }

  mg_log_set(MG_LL_INFO);
  if (mg_mgr_init(&mgr) != 0) return 1;
  struct mg_conn c = url != NULL ? mg_mdns_listen_url(&mgr, url, fn, name) : mg_mdns_listen(&mgr, fn, name);
  if (c.h == 0) {
    fprintf(stderr, "cannot listen for mDNS: %s\n", mg_strerror(mg_last_error()));
    mg_mgr_free(&mgr);
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  printf("mDNS responder for %s.local on %s\n", name, url != NULL ? url : "udp://224.0.0.251:5353");
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  if (mg_mgr_free(&mgr) != 0) return 1;
  printf("bye\n");
  return 0;
}
