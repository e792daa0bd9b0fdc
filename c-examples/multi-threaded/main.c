/*
 * multi-threaded: hand requests to a pool of worker threads and reply through mg_wakeup.
 *
 *   ./multi-threaded [URL]      default URL: tcp://0.0.0.0:8766
 *
 * A line-based TCP server. Each received line is a request. The event loop hands it, with
 * the connection's handle, to a fixed pool of worker threads through a job queue (mutex +
 * condition variable). A worker "works" (sleeps 0..50 ms), then gives the reply
 * "ok <line>\n" back to the loop with mg_wakeup(), the one call any thread may make. The
 * loop receives it as MG_EV_WAKEUP on that very connection and sends it.
 *
 * One request per connection is with the pool at a time; the next line is taken once the
 * reply is back, so replies come out in the order the requests came in.
 *
 * When the client has gone before the reply is ready, mg_wakeup() returns MG_ERR_STALE and
 * the reply is dropped: it can never reach another connection, even one that reused the
 * socket. A reply accepted just before its connection closed comes back through the
 * undelivered callback instead. Both are counted; on SIGINT/SIGTERM the program stops the
 * workers, frees the manager and prints the counters:
 *
 *   requests=R replies=P stale=S undelivered=U dropped=D failed=F
 *
 * where R = P + S + U + D + F (D: still queued at shutdown, F: other errors).
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "meerkat.h"

#define NUM_WORKERS 4
#define QUEUE_CAP 256 /* jobs waiting for a worker; when full, lines wait in the socket */
#define MAX_LINE 256  /* longest request line, without its "\n" */

struct job {
  struct mg_conn c; /* a handle, not a pointer: safe to keep after the client has gone */
  size_t len;
  char line[MAX_LINE];
};

/* The job queue, shared by the loop thread and the workers. Everything is under mu. */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct job jobs[QUEUE_CAP]; /* ring buffer */
  size_t head, count;
  int stop;
  unsigned long stale, failed; /* worker-side counters */
} s_q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {{{0}, 0, {0}}}, 0, 0, 0, 0, 0};

static struct mg_mgr s_mgr;
static volatile sig_atomic_t s_signo;

/* Loop-thread counters (only the manager's thread touches them). */
static unsigned long s_requests, s_replies, s_undelivered, s_send_failed;

/* Per-connection state, kept in mg_conn_data() (zeroed when the connection opens). */
struct conn_state {
  int busy; /* a request of this connection is with the pool */
};

static void on_signal(int signo) {
  s_signo = signo;
}

static void sleep_ms(unsigned ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long) (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* Loop thread: queue a job. Returns 0 when the queue is full. */
static int queue_push(struct mg_conn c, const char *line, size_t len) {
  int ok = 0;
  pthread_mutex_lock(&s_q.mu);
  if (s_q.count < QUEUE_CAP) {
    struct job *j = &s_q.jobs[(s_q.head + s_q.count) % QUEUE_CAP];
    j->c = c;
    j->len = len;
    memcpy(j->line, line, len);
    s_q.count++;
    ok = 1;
    pthread_cond_signal(&s_q.cv);
  }
  pthread_mutex_unlock(&s_q.mu);
  return ok;
}

static void *worker(void *arg) {
  unsigned id = (unsigned) (uintptr_t) arg;
  for (;;) {
    struct job j;
    pthread_mutex_lock(&s_q.mu);
    while (!s_q.stop && s_q.count == 0) pthread_cond_wait(&s_q.cv, &s_q.mu);
    if (s_q.stop) {
      pthread_mutex_unlock(&s_q.mu);
      break;
    }
    j = s_q.jobs[s_q.head];
    s_q.head = (s_q.head + 1) % QUEUE_CAP;
    s_q.count--;
    pthread_mutex_unlock(&s_q.mu);

    unsigned char r = 0;
    mg_random(&r, sizeof(r));
    sleep_ms(r % 51u); /* the "work" */

    char reply[MAX_LINE + 8];
    size_t n = mg_snprintf(reply, sizeof(reply), "ok %.*s\n", (int) j.len, j.line);
    int rc;
    /* MG_ERR_FULL is backpressure from the loop's queue: wait a little and retry. */
    while ((rc = mg_wakeup(&s_mgr, j.c, reply, n)) == MG_ERR_FULL) {
      int stop;
      pthread_mutex_lock(&s_q.mu);
      stop = s_q.stop;
      pthread_mutex_unlock(&s_q.mu);
      if (stop) break;
      sleep_ms(1);
    }
    if (rc != 0) {
      pthread_mutex_lock(&s_q.mu);
      if (rc == MG_ERR_STALE) {
        s_q.stale++; /* the client left: the reply goes nowhere, never to another client */
      } else {
        s_q.failed++;
        MG_ERROR(("worker %u: mg_wakeup: %s", id, mg_strerror(rc)));
      }
      pthread_mutex_unlock(&s_q.mu);
    }
  }
  return NULL;
}

/* Take the next complete line of `c` to the pool, unless one is already there. */
static void next_request(struct mg_conn c) {
  struct conn_state *cs = (struct conn_state *) mg_conn_data(c);
  struct mg_str d = mg_recv(c);
  if (cs == NULL || cs->busy || d.len == 0) return;
  const char *nl = (const char *) memchr(d.buf, '\n', d.len);
  size_t len = nl == NULL ? d.len : (size_t) (nl - d.buf);
  if (len >= MAX_LINE) {
    mg_printf(c, "error: line longer than %d bytes\n", MAX_LINE - 1);
    mg_recv_consume(c, d.len);
    mg_drain(c);
    return;
  }
  if (nl == NULL) return; /* wait for the rest of the line */
  if (len > 0 && d.buf[len - 1] == '\r') len--;
  if (!queue_push(c, d.buf, len)) return; /* pool full: try again at the next MG_EV_POLL */
  mg_recv_consume(c, (size_t) (nl - d.buf) + 1);
  cs->busy = 1;
  s_requests++;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_READ || ev == MG_EV_POLL) {
    next_request(c);
  } else if (ev == MG_EV_WAKEUP) {
    struct mg_str *reply = (struct mg_str *) ev_data; /* valid until we return */
    struct conn_state *cs = (struct conn_state *) mg_conn_data(c);
    if (mg_send(c, reply->buf, reply->len) == 0) {
      s_replies++;
    } else {
      s_send_failed++; /* the connection is closing */
    }
    if (cs != NULL) cs->busy = 0;
    next_request(c);
  }
}

/* A reply mg_wakeup() accepted, for a connection that closed before it was delivered. */
static void undelivered(struct mg_conn c, struct mg_str *data, void *arg) {
  (void) c, (void) data, (void) arg;
  s_undelivered++;
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "tcp://0.0.0.0:8766";
  pthread_t workers[NUM_WORKERS];
  sigset_t sigs, old;
  struct sigaction sa;
  int i;

  if (mg_mgr_init(&s_mgr) != 0) return 1;
  mg_mgr_set_undelivered_fn(&s_mgr, undelivered, NULL);
  if (mg_listen(&s_mgr, url, fn, NULL).h == 0) {
    fprintf(stderr, "cannot listen on %s: %s\n", url, mg_strerror(mg_last_error()));
    mg_mgr_free(&s_mgr);
    return 1;
  }

  /* Workers block SIGINT/SIGTERM, so the signal lands on the loop thread and interrupts
   * its wait in mg_mgr_poll. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, &old);
  for (i = 0; i < NUM_WORKERS; i++) {
    if (pthread_create(&workers[i], NULL, worker, (void *) (uintptr_t) i) != 0) {
      fprintf(stderr, "pthread_create failed\n");
      return 1;
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  printf("listening on %s\n", url);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&s_mgr, 1000);

  /* Stop: workers finish the job in hand, then exit; queued jobs are dropped. The manager
   * is freed only after the workers are joined, so no mg_wakeup can race mg_mgr_free. */
  pthread_mutex_lock(&s_q.mu);
  s_q.stop = 1;
  pthread_cond_broadcast(&s_q.cv);
  pthread_mutex_unlock(&s_q.mu);
  for (i = 0; i < NUM_WORKERS; i++) pthread_join(workers[i], NULL);
  if (mg_mgr_free(&s_mgr) != 0) return 1; /* reports accepted, undelivered replies */

  printf("requests=%lu replies=%lu stale=%lu undelivered=%lu dropped=%lu failed=%lu\n",
         s_requests, s_replies, s_q.stale, s_undelivered, (unsigned long) s_q.count,
         s_q.failed + s_send_failed);
  printf("bye\n");
  return 0;
}
