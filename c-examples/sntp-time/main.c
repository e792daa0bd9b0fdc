/*
 * sntp-time: set the wall clock from an SNTP server, as Mongoose firmware does.
 *
 *   ./sntp-time [URL]          default URL: udp://time.google.com:123
 *
 * Sends one request with mg_sntp_connect, prints "SNTP time: <ms> ms since epoch" when a
 * reply passed meerkat's checks (server mode, stratum 1..15, our timestamp echoed, server
 * synchronised), then "mg_now: <ms>" (the wall clock, now set) and "bye". Exits with 1 if
 * no good reply came (MG_EV_ERROR "SNTP request timed out" after 3 s).
 */
#include <inttypes.h>
#include <stdio.h>

#include "meerkat.h"

static int s_synced;  /* set on MG_EV_SNTP_TIME */
static int s_closed;  /* set on MG_EV_CLOSE */

static void sfn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_SNTP_TIME) {
    uint64_t t = *(uint64_t *) ev_data; /* Unix milliseconds */
    printf("SNTP time: %" PRIu64 " ms since epoch\n", t);
    s_synced = 1;
  } else if (ev == MG_EV_ERROR) {
    printf("error: %s\n", (char *) ev_data);
  } else if (ev == MG_EV_CLOSE) {
    s_closed = 1;
  }
  (void) c;
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "udp://time.google.com:123";
  struct mg_mgr mgr;

  mg_log_set(MG_LL_INFO);
  if (mg_mgr_init(&mgr) != 0) return 1;
  printf("mg_now before: %" PRIu64 "\n", mg_now()); /* still mg_millis() */
  struct mg_conn c = mg_sntp_connect(&mgr, url, sfn, NULL);
  if (c.h == 0) {
    fprintf(stderr, "mg_sntp_connect %s: %s\n", url, mg_strerror(mg_last_error()));
    mg_mgr_free(&mgr);
    return 1;
  }
  /* The connection closes after the reply (or the 3 s timeout); bounded anyway. */
  uint64_t end = mg_millis() + 10000;
  while (!s_closed && mg_millis() < end) mg_mgr_poll(&mgr, 100);
  if (s_synced) printf("mg_now: %" PRIu64 "\n", mg_now());
  if (mg_mgr_free(&mgr) != 0) return 1;
  printf("bye\n");
  return s_synced ? 0 : 1;
}
