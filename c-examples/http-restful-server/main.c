/*
 * http-restful-server: a key/value store behind a REST API, answered by a worker pool.
 *
 *   ./http-restful-server [URL]      default URL: http://0.0.0.0:8001
 *
 *   GET    /api/kv           200 {"keys":["a","b",...]}            (sorted by insertion)
 *   GET    /api/kv/KEY       200 {"key":"KEY","value":"VALUE"}     404 when absent
 *   PUT    /api/kv/KEY       body = the value: 201 {"key":"KEY","created":true}, or 200
 *                            {"key":"KEY","created":false} when it replaced a value
 *   DELETE /api/kv/KEY       200 {"key":"KEY","deleted":true}      404 when absent
 *
 * KEY: 1..64 characters of [A-Za-z0-9._-]; VALUE: at most 16 KiB (413 beyond). Errors are
 * JSON too: {"error":"..."} with 400, 404, 405, 413, or 503 when the job queue is full.
 *
 * The event loop does no work: for each request it copies method, URI and body into a job
 * with the connection's handle and hands it to a pool of worker threads. A worker owns the
 * store (under a mutex), routes the request, formats the complete JSON response, and gives
 * it back with mg_wakeup(). The MG_EV_WAKEUP handler only calls mg_http_reply(). meerkat
 * reads nothing more from a connection until its response is complete, so a connection
 * has at most one job in the pool, and pipelined requests are answered in order.
 *
 * A client that leaves before its reply is ready makes mg_wakeup() return MG_ERR_STALE: the
 * reply is dropped and can never reach another client. On SIGINT/SIGTERM the program stops
 * the workers, frees the manager and prints
 *
 *   requests=R replies=P stale=S undelivered=U dropped=D failed=F
 *
 * (R = P + S + U + D + F), then "bye", and exits with status 0.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meerkat.h"

#define NUM_WORKERS 4
#define QUEUE_CAP 128
#define MAX_KEY 64
#define MAX_VALUE (16 * 1024)
#define MAX_KEYS 1024
#define MAX_URI 256

enum method { M_GET, M_PUT, M_DELETE, M_OTHER };

struct job {
  struct mg_conn c; /* a handle, not a pointer: safe to keep after the client has gone */
  enum method method;
  char uri[MAX_URI + 1]; /* empty when the URI was too long */
  size_t body_len;       /* the real length: only the first MAX_VALUE + 1 bytes are kept */
  char *body;            /* malloc'ed copy, owned by the job */
};

struct entry {
  char key[MAX_KEY + 1];
  char *value; /* malloc'ed, NUL-terminated (the NUL is not counted in len) */
  size_t len;
};

/* The job queue, shared by the loop thread and the workers, under q.mu. */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct job jobs[QUEUE_CAP]; /* ring buffer */
  size_t head, count;
  int stop;
  unsigned long stale, failed;
} s_q;

/* The store: only workers touch it, under s_store.mu. */
static struct {
  pthread_mutex_t mu;
  struct entry entries[MAX_KEYS];
  size_t count;
} s_store;

static struct mg_mgr s_mgr;
static volatile sig_atomic_t s_signo;
static unsigned long s_requests, s_replies, s_undelivered, s_unsent; /* loop thread only */

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

/* ---- worker side --------------------------------------------------------------------- */

/* A response being built by a worker: "STATUS BODY", the form the loop thread expects. */
struct reply {
  char *buf; /* from mg_mprintf, freed by the worker */
};

static void reply(struct reply *r, int status, const char *fmt, ...) {
  va_list ap;
  char *body;
  va_start(ap, fmt);
  body = mg_vmprintf(fmt, &ap);
  va_end(ap);
  r->buf = body == NULL ? NULL : mg_mprintf("%d %s", status, body);
  free(body);
}

static void error_reply(struct reply *r, int status, const char *msg) {
  reply(r, status, "{%m:%m}", MG_ESC("error"), MG_ESC(msg));
}

static int valid_key(const char *k, size_t len) {
  size_t i;
  if (len == 0 || len > MAX_KEY) return 0;
  for (i = 0; i < len; i++) {
    char ch = k[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '.' || ch == '_' || ch == '-')) {
      return 0;
    }
  }
  return 1;
}

/* s_store.mu held. */
static struct entry *find(const char *key) {
  size_t i;
  for (i = 0; i < s_store.count; i++) {
    if (strcmp(s_store.entries[i].key, key) == 0) return &s_store.entries[i];
  }
  return NULL;
}

/* Print the list of keys as a JSON array (a %M printer; takes no arguments). */
static size_t print_keys(void (*out)(char, void *), void *param, va_list *ap) {
  size_t i, n = 0;
  (void) ap;
  n += mg_xprintf(out, param, "[");
  for (i = 0; i < s_store.count; i++) {
    n += mg_xprintf(out, param, "%s%m", i == 0 ? "" : ",", MG_ESC(s_store.entries[i].key));
  }
  n += mg_xprintf(out, param, "]");
  return n;
}

/* Route one request and format its response. Runs on a worker thread. */
static void handle(const struct job *j, struct reply *r) {
  struct mg_str caps[2];
  struct mg_str uri = mg_str(j->uri);
  char key[MAX_KEY + 1];

  if (j->uri[0] == '\0') {
    error_reply(r, 404, "not found");
  } else if (mg_match(uri, mg_str("/api/kv"), NULL)) {
    if (j->method != M_GET) {
      error_reply(r, 405, "method not allowed");
      return;
    }
    pthread_mutex_lock(&s_store.mu);
    reply(r, 200, "{%m:%M}", MG_ESC("keys"), print_keys);
    pthread_mutex_unlock(&s_store.mu);
  } else if (mg_match(uri, mg_str("/api/kv/*"), caps)) {
    if (!valid_key(caps[0].buf, caps[0].len)) {
      error_reply(r, 400, "a key is 1..64 characters of A-Z a-z 0-9 . _ -");
      return;
    }
    memcpy(key, caps[0].buf, caps[0].len);
    key[caps[0].len] = '\0';
    pthread_mutex_lock(&s_store.mu);
    struct entry *e = find(key);
    if (j->method == M_GET) {
      if (e == NULL) {
        error_reply(r, 404, "no such key");
      } else {
        /* An explicit length: a value may contain NUL bytes (printed as \u0000). */
        reply(r, 200, "{%m:%m,%m:%m}", MG_ESC("key"), MG_ESC(key), MG_ESC("value"),
              mg_print_esc, (int) e->len, e->value);
      }
    } else if (j->method == M_PUT) {
      char *v = j->body_len > MAX_VALUE ? NULL : (char *) malloc(j->body_len + 1);
      if (j->body_len > MAX_VALUE) {
        error_reply(r, 413, "a value is at most 16384 bytes");
      } else if (v == NULL || (e == NULL && s_store.count == MAX_KEYS)) {
        free(v);
        error_reply(r, 507, "store full");
      } else {
        int created = e == NULL;
        if (j->body_len > 0) memcpy(v, j->body, j->body_len);
        v[j->body_len] = '\0';
        if (created) {
          e = &s_store.entries[s_store.count++];
          memcpy(e->key, key, sizeof(key));
        } else {
          free(e->value);
        }
        e->value = v;
        e->len = j->body_len;
        reply(r, created ? 201 : 200, "{%m:%m,%m:%s}", MG_ESC("key"), MG_ESC(key),
              MG_ESC("created"), created ? "true" : "false");
      }
    } else if (j->method == M_DELETE) {
      if (e == NULL) {
        error_reply(r, 404, "no such key");
      } else {
        free(e->value);
        memmove(e, e + 1, (size_t) (&s_store.entries[s_store.count] - (e + 1)) * sizeof(*e));
        s_store.count--;
        reply(r, 200, "{%m:%m,%m:true}", MG_ESC("key"), MG_ESC(key), MG_ESC("deleted"));
      }
    } else {
      error_reply(r, 405, "method not allowed");
    }
    pthread_mutex_unlock(&s_store.mu);
  } else {
    error_reply(r, 404, "not found");
  }
}

static void *worker(void *arg) {
  unsigned id = (unsigned) (uintptr_t) arg;
  for (;;) {
    struct job j;
    struct reply r = {NULL};
    unsigned char delay = 0;
    int rc;

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

    mg_random(&delay, sizeof(delay));
    sleep_ms(delay % 11u); /* a database would take a moment */
    handle(&j, &r);
    free(j.body);
    if (r.buf == NULL) {
      rc = MG_ERR_NOMEM;
    } else {
      /* MG_ERR_FULL is backpressure from the loop's queue: wait a little and retry. */
      while ((rc = mg_wakeup(&s_mgr, j.c, r.buf, strlen(r.buf))) == MG_ERR_FULL) {
        int stop;
        pthread_mutex_lock(&s_q.mu);
        stop = s_q.stop;
        pthread_mutex_unlock(&s_q.mu);
        if (stop) break;
        sleep_ms(1);
      }
      free(r.buf);
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

/* ---- loop side ----------------------------------------------------------------------- */

static enum method method_of(struct mg_str m) {
  if (mg_strcmp(m, mg_str("GET")) == 0 || mg_strcmp(m, mg_str("HEAD")) == 0) return M_GET;
  if (mg_strcmp(m, mg_str("PUT")) == 0) return M_PUT;
  if (mg_strcmp(m, mg_str("DELETE")) == 0) return M_DELETE;
  return M_OTHER;
}

/* Copy the request into a job and queue it. Returns 0 when the queue is full. */
static int queue_push(struct mg_conn c, const struct mg_http_message *hm) {
  size_t keep = hm->body.len > MAX_VALUE ? MAX_VALUE + 1 : hm->body.len;
  char *body = (char *) malloc(keep + 1);
  int ok = 0;
  if (body == NULL) return 0;
  if (keep > 0) memcpy(body, hm->body.buf, keep);
  body[keep] = '\0';
  pthread_mutex_lock(&s_q.mu);
  if (s_q.count < QUEUE_CAP) {
    struct job *j = &s_q.jobs[(s_q.head + s_q.count) % QUEUE_CAP];
    j->c = c;
    j->method = method_of(hm->method);
    j->uri[0] = '\0';
    if (hm->uri.len <= MAX_URI) {
      memcpy(j->uri, hm->uri.buf, hm->uri.len);
      j->uri[hm->uri.len] = '\0';
    }
    j->body_len = hm->body.len;
    j->body = body;
    s_q.count++;
    ok = 1;
    pthread_cond_signal(&s_q.cv);
  }
  pthread_mutex_unlock(&s_q.mu);
  if (!ok) free(body);
  return ok;
}

#define JSON_HEADERS "Content-Type: application/json\r\nCache-Control: no-store\r\n"

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    s_requests++;
    if (!queue_push(c, hm)) {
      /* The one reply not made by a worker: there is no worker free to make it. */
      if (mg_http_reply(c, 503, JSON_HEADERS "Retry-After: 1\r\n", "{%m:%m}", MG_ESC("error"),
                        MG_ESC("busy, try again")) == 0) {
        s_replies++;
      } else {
        s_unsent++;
      }
    }
  } else if (ev == MG_EV_WAKEUP) {
    /* "STATUS BODY" from a worker, for this very connection's request. */
    struct mg_str *r = (struct mg_str *) ev_data; /* valid until we return */
    int status = 0;
    size_t i = 0;
    while (i < r->len && i < 3 && r->buf[i] >= '0' && r->buf[i] <= '9') {
      status = status * 10 + (r->buf[i++] - '0');
    }
    if (i == 3 && i < r->len && r->buf[i] == ' ' &&
        mg_http_reply(c, status, JSON_HEADERS, "%.*s", (int) (r->len - 4), r->buf + 4) == 0) {
      s_replies++;
    } else {
      s_unsent++; /* the connection is closing */
    }
  }
}

/* A reply mg_wakeup() accepted, for a connection that closed before it was delivered. */
static void undelivered(struct mg_conn c, struct mg_str *data, void *arg) {
  (void) c, (void) data, (void) arg;
  s_undelivered++;
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "http://0.0.0.0:8001";
  pthread_t workers[NUM_WORKERS];
  sigset_t sigs, old;
  struct sigaction sa;
  size_t dropped, k;
  int i;

  pthread_mutex_init(&s_q.mu, NULL);
  pthread_cond_init(&s_q.cv, NULL);
  pthread_mutex_init(&s_store.mu, NULL);
  if (mg_mgr_init(&s_mgr) != 0) return 1;
  mg_mgr_set_undelivered_fn(&s_mgr, undelivered, NULL);
  if (mg_http_listen(&s_mgr, url, fn, NULL).h == 0) {
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
  if (mg_mgr_free(&s_mgr) != 0) return 1;

  dropped = s_q.count;
  for (k = 0; k < s_q.count; k++) free(s_q.jobs[(s_q.head + k) % QUEUE_CAP].body);
  for (k = 0; k < s_store.count; k++) free(s_store.entries[k].value);
  printf("requests=%lu replies=%lu stale=%lu undelivered=%lu dropped=%lu failed=%lu\n",
         s_requests, s_replies, s_q.stale, s_undelivered, (unsigned long) dropped,
         s_q.failed + s_unsent);
  printf("bye\n");
  return 0;
}
