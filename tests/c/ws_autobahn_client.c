/*
 * An Autobahn test client written with Mongoose 7.22's names (through mongoose.h), for an
 * Autobahn fuzzing server (kosoku -m fuzzingserver):
 *
 *   ./ws_autobahn_client ws://HOST:PORT AGENT PARALLEL
 *
 * Asks /getCaseCount, then runs every case (/runCase?case=N&agent=AGENT), at most PARALLEL
 * at a time, echoing every message with its opcode (mg_ws_send(c, wm->data.buf,
 * wm->data.len, wm->flags & 0x0f)), then asks /updateReports?agent=AGENT. ws_max_message,
 * max_recv and max_send are raised to 64 MiB (9.x sends messages up to 16 MiB).
 * Prints "cases=N done=N errors=N live=N" and exits 0 when every case connection closed.
 */
#include "mongoose.h"

static const char *s_base;
static const char *s_agent;
static int s_count = -1;    /* cases, once known */
static int s_next = 1;      /* next case to start */
static int s_running;       /* case connections open */
static int s_done;          /* case connections closed */
static int s_errors;        /* MG_EV_ERROR seen */
static int s_reported;      /* /updateReports closed */

static void count_fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    char buf[16];
    mg_snprintf(buf, sizeof(buf), "%.*s", (int) wm->data.len, wm->data.buf);
    s_count = atoi(buf);
  } else if (ev == MG_EV_ERROR) {
    fprintf(stderr, "getCaseCount: %s\n", (char *) ev_data);
    s_count = 0;
  } else if (ev == MG_EV_CLOSE && s_count < 0) {
    s_count = 0;
  }
  (void) c;
}

static void case_fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 0x0f);
  } else if (ev == MG_EV_ERROR) {
    s_errors++;
  } else if (ev == MG_EV_CLOSE) {
    s_running--;
    s_done++;
  }
}

static void report_fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_CLOSE) s_reported = 1;
  (void) c, (void) ev_data;
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct mg_limits l;
  struct mg_stats st;
  char url[256];
  int parallel = argc > 3 ? atoi(argv[3]) : 1;
  uint64_t deadline;
  if (argc < 3 || parallel < 1) {
    fprintf(stderr, "usage: %s ws://HOST:PORT AGENT [PARALLEL]\n", argv[0]);
    return 2;
  }
  s_base = argv[1];
  s_agent = argv[2];
  if (mg_mgr_init(&mgr) != 0) return 1;
  mg_mgr_get_limits(&mgr, &l);
  l.ws_max_message = l.max_recv = l.max_send = 64u << 20;
  if (mg_mgr_set_limits(&mgr, &l) != 0) return 1;

  mg_snprintf(url, sizeof(url), "%s/getCaseCount", s_base);
  mg_ws_connect(&mgr, url, count_fn, NULL, NULL);
  deadline = mg_millis() + 10000;
  while (s_count < 0 && mg_millis() < deadline) mg_mgr_poll(&mgr, 50);
  if (s_count <= 0) {
    fprintf(stderr, "no case count\n");
    return 1;
  }

  while (s_done < s_count) {
    while (s_running < parallel && s_next <= s_count) {
      mg_snprintf(url, sizeof(url), "%s/runCase?case=%d&agent=%s", s_base, s_next++, s_agent);
      if (mg_ws_connect(&mgr, url, case_fn, NULL, NULL).h == 0) {
        fprintf(stderr, "mg_ws_connect %s: %s\n", url, mg_strerror(mg_last_error()));
        s_done++;
      } else {
        s_running++;
      }
    }
    mg_mgr_poll(&mgr, 50);
  }

  mg_snprintf(url, sizeof(url), "%s/updateReports?agent=%s", s_base, s_agent);
  mg_ws_connect(&mgr, url, report_fn, NULL, NULL);
  deadline = mg_millis() + 10000;
  while (!s_reported && mg_millis() < deadline) mg_mgr_poll(&mgr, 50);
  mg_mgr_stats(&mgr, &st);
  printf("cases=%d done=%d errors=%d live=%u\n", s_count, s_done, s_errors, st.live_conns);
  mg_mgr_free(&mgr);
  return s_reported ? 0 : 1;
}
