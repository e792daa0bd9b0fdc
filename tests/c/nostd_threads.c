/*
 * nostd_threads.c: G2 (calls on a manager come from its owner thread) in the archive built
 * without std (tests/no_std.rs), where the owner of each manager is kept in the registry's
 * process-wide list instead of std's thread-locals. Another thread's calls on a manager it
 * does not own return MG_ERR_WRONG_THREAD and do nothing; that thread's own manager works
 * beside it; the owner's manager is untouched afterwards.
 *
 * Prints "ok" when every check holds, else one line per failed check.
 */
#include <pthread.h>
#include <stdio.h>

#include "meerkat.h"

static struct mg_mgr s_mgr;
static struct mg_conn s_listener;
static int s_failed;

#define CHECK(cond)                                        \
  do {                                                     \
    if (!(cond)) {                                         \
      printf("failed line %d: %s\n", __LINE__, #cond);     \
      s_failed++;                                          \
    }                                                      \
  } while (0)

static void *other_thread(void *arg) {
  struct mg_mgr own;
  struct mg_conn l;
  struct mg_conn_info info;
  (void) arg;
  /* The owner's manager and connection: refused, nothing done. */
  CHECK(mg_mgr_poll(&s_mgr, 0) == MG_ERR_WRONG_THREAD);
  CHECK(mg_conn_info(s_listener, &info) == MG_ERR_WRONG_THREAD);
  CHECK(mg_close(s_listener) == MG_ERR_WRONG_THREAD);
  CHECK(mg_mgr_free(&s_mgr) == MG_ERR_WRONG_THREAD);
  /* This thread's own manager, live beside the other one. */
  CHECK(mg_mgr_init(&own) == 0);
  l = mg_listen(&own, "tcp://127.0.0.1:0", NULL, NULL);
  CHECK(l.h != 0);
  CHECK(mg_mgr_poll(&own, 0) == 0);
  CHECK(mg_conn_info(l, &info) == 0 && info.is_listening);
  CHECK(mg_mgr_free(&own) == 0);
  CHECK(mg_close(l) == MG_ERR_STALE);
  return NULL;
}

int main(void) {
  struct mg_conn_info info;
  pthread_t t;
  CHECK(mg_mgr_init(&s_mgr) == 0);
  s_listener = mg_listen(&s_mgr, "tcp://127.0.0.1:0", NULL, NULL);
  CHECK(s_listener.h != 0);
  CHECK(pthread_create(&t, NULL, other_thread, NULL) == 0);
  pthread_join(t, NULL);
  /* Untouched by the other thread's calls. */
  CHECK(mg_conn_info(s_listener, &info) == 0 && info.is_listening);
  CHECK(mg_mgr_poll(&s_mgr, 0) == 0);
  CHECK(mg_mgr_free(&s_mgr) == 0);
  CHECK(mg_close(s_listener) == MG_ERR_STALE);
  if (s_failed == 0) printf("ok\n");
  return s_failed != 0;
}
