/* mg_mgr_init on a manager that is already live is refused (MG_ERR_BUSY) and leaves it
 * untouched; an uninitialised struct mg_mgr (stack garbage, a struct copy of a live one) is
 * never mistaken for a live manager. Prints "N passed, M failed". */
#include "mongoose.h"

#include "check.h"

static struct mg_mgr g_mgr; /* a global: zeroed */
static struct mg_mgr *g_other;
static int g_other_rc;

static void *other_thread(void *arg) {
  (void) arg;
  g_other_rc = mg_mgr_init(g_other);
  return NULL;
}

/* A manager on the stack of a function called twice: the second call reuses the frame. */
static void stack_cycle(void) {
  struct mg_mgr m;
  CHECK(mg_mgr_init(&m) == 0);
  CHECK(mg_mgr_poll(&m, 0) == 0);
  CHECK(mg_mgr_free(&m) == 0);
}

int main(void) {
  struct mg_mgr m, copy, garbage;
  struct mg_conn l, c;
  struct mg_conn_info info;
  struct mg_addr loc;
  pthread_t t;
  char url[64];

  memset(&m, 0xA5, sizeof(m)); /* what an unzeroed stack struct may hold */
  CHECK(mg_mgr_init(&m) == 0);
  l = mg_listen(&m, "tcp://127.0.0.1:0", NULL, NULL);
  CHECK(l.h != 0);
  CHECK(mg_conn_info(l, &info) == 0);
  loc = info.loc;

  /* Again on the live manager: refused, and the live one keeps working. */
  CHECK(mg_mgr_init(&m) == MG_ERR_BUSY);
  CHECK(mg_mgr_init(&m) == MG_ERR_BUSY);
  CHECK(mg_conn_info(l, &info) == 0 && info.is_listening);
  snprintf(url, sizeof(url), "tcp://127.0.0.1:%u",
           (unsigned) (((const uint8_t *) &loc.port)[0] << 8 | ((const uint8_t *) &loc.port)[1]));
  c = mg_connect(&m, url, NULL, NULL);
  CHECK(c.h != 0);
  CHECK(mg_mgr_poll(&m, 10) == 0);
  CHECK(mg_send(c, "x", 1) == 0);
  {
    struct mg_stats st;
    int i;
    for (i = 0; i < 50; i++) {
      mg_mgr_poll(&m, 10);
      if (mg_mgr_stats(&m, &st) == 0 && st.accepted >= 1) break;
    }
    CHECK(mg_mgr_stats(&m, &st) == 0 && st.accepted == 1 && st.live_conns == 3);
  }

  /* From another thread: still refused, still untouched. */
  g_other = &m;
  g_other_rc = 1;
  CHECK(pthread_create(&t, NULL, other_thread, NULL) == 0);
  pthread_join(t, NULL);
  CHECK(g_other_rc == MG_ERR_BUSY);
  CHECK(mg_conn_info(l, &info) == 0);

  /* A byte copy of the live manager lives at another address: not live there. */
  memcpy(&copy, &m, sizeof(m));
  CHECK(mg_mgr_init(&copy) == 0);
  CHECK(mg_mgr_free(&copy) == 0);
  CHECK(mg_conn_info(l, &info) == 0); /* the original is untouched */

  memset(&garbage, 0xFF, sizeof(garbage));
  CHECK(mg_mgr_init(&garbage) == 0);
  CHECK(mg_mgr_free(&garbage) == 0);

  CHECK(mg_mgr_init(&g_mgr) == 0);
  CHECK(mg_mgr_init(&g_mgr) == MG_ERR_BUSY);
  CHECK(mg_mgr_free(&g_mgr) == 0);
  CHECK(mg_mgr_init(&g_mgr) == 0); /* free, then init again: fine */
  CHECK(mg_mgr_free(&g_mgr) == 0);

  stack_cycle();
  stack_cycle();

  /* After mg_mgr_free the old handles are stale and the struct can be initialised again. */
  CHECK(mg_mgr_free(&m) == 0);
  CHECK(mg_close(l) == MG_ERR_STALE);
  CHECK(mg_mgr_init(&m) == 0);
  CHECK(mg_mgr_free(&m) == 0);

  return CHECK_SUMMARY();
}
