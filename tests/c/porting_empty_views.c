/* Empty views handed to C are {NULL, 0}, never Rust's dangling (char *) 1: mg_recv with
 * nothing received, after everything was consumed, an empty wakeup payload. And
 * mg_url_decode / mg_url_encode take SIZE_MAX as "the buffer is big enough".
 * Prints "N passed, M failed". */
#include "mongoose.h"

#include "check.h"

static struct mg_mgr g_mgr;
static int g_done, g_wakeups, g_reads;

static void check_empty(struct mg_conn c) {
  struct mg_str d = mg_recv(c);
  CHECK(d.buf == NULL && d.len == 0);
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_OPEN || ev == MG_EV_ACCEPT || ev == MG_EV_CONNECT) check_empty(c);
  if (ev == MG_EV_CONNECT) {
    CHECK(mg_wakeup(&g_mgr, c, NULL, 0) == 0);
    CHECK(mg_send(c, "hello", 5) == 0);
  }
  if (ev == MG_EV_WAKEUP) {
    struct mg_str *s = (struct mg_str *) ev_data;
    CHECK(s != NULL && s->buf == NULL && s->len == 0);
    g_wakeups++;
  }
  if (ev == MG_EV_READ) {
    struct mg_str d = mg_recv(c);
    CHECK(d.buf != NULL && d.len > 0);
    CHECK(mg_recv_consume(c, d.len) == 0);
    check_empty(c); /* consumed: empty again */
    g_reads++;
    g_done = 1;
  }
}

int main(void) {
  struct mg_conn l, c;
  struct mg_conn_info info;
  char url[64], out[64];
  int i;

  /* Listener and a client to it, on one manager. */
  CHECK(mg_mgr_init(&g_mgr) == 0);
  l = mg_listen(&g_mgr, "tcp://127.0.0.1:0", fn, NULL);
  CHECK(l.h != 0 && mg_conn_info(l, &info) == 0);
  check_empty(l);
  snprintf(url, sizeof(url), "tcp://127.0.0.1:%u",
           (unsigned) (((const uint8_t *) &info.loc.port)[0] << 8 | ((const uint8_t *) &info.loc.port)[1]));
  c = mg_connect(&g_mgr, url, fn, NULL);
  CHECK(c.h != 0);
  check_empty(c);
  for (i = 0; i < 200 && !(g_done && g_wakeups > 0); i++) mg_mgr_poll(&g_mgr, 10);
  CHECK(g_done && g_reads == 1 && g_wakeups == 1);
  CHECK(mg_mgr_free(&g_mgr) == 0);
  {
    struct mg_str d = mg_recv(c); /* stale */
    CHECK(d.buf == NULL && d.len == 0);
  }

  /* SIZE_MAX destination sizes are a bound, as in Mongoose. */
  memset(out, 0x55, sizeof(out));
  CHECK(mg_url_decode("a%20b+c", 7, out, SIZE_MAX, 1) == 5 && strcmp(out, "a b c") == 0);
  CHECK(mg_url_decode("abc", 3, out, SIZE_MAX, 0) == 3 && strcmp(out, "abc") == 0);
  CHECK(mg_url_decode("", 0, out, SIZE_MAX, 0) == 0 && out[0] == '\0');
  CHECK(mg_url_decode("%zz", 3, out, SIZE_MAX, 0) == -1);
  CHECK(mg_url_encode("a b", 3, out, SIZE_MAX) == 5 && strcmp(out, "a%20b") == 0);
  {
    struct mg_str q = mg_str("x=1%202&y=2");
    CHECK(mg_http_get_var(&q, "x", out, SIZE_MAX) == 3 && strcmp(out, "1 2") == 0);
  }

  return CHECK_SUMMARY();
}
