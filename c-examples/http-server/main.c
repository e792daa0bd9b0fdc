/*
 * http-server: a web server with static files and a small JSON API.
 *
 *   ./http-server [URL [WEB_ROOT]]     defaults: http://0.0.0.0:8000 and ./web_root
 *
 * Everything outside /api/ is a file from WEB_ROOT, served by mg_http_serve_dir (index.html
 * for directories, Content-Type from the file name, 404 for what is not there). The API:
 *
 *   GET  /api/stats            {"uptime_ms":N,"requests":N,"live_conns":N}
 *   GET  /api/echo?text=TEXT   {"text":"TEXT"} (URL-decoded, then JSON-escaped)
 *   POST /api/sum              body {"a":1,"b":2} or a=1&b=2, reply {"sum":3}
 *   GET  /api/slow[?id=ID]     {"id":"ID","delay_ms":N}, answered 50..200 ms later by a
 *                              background thread through mg_wakeup
 *   anything else under /api/  404 {"error":"not found"}
 *
 * /api/slow is the scenario meerkat exists for. The background thread holds the request's
 * connection handle, not a pointer or a socket. If the browser gave up on the request and
 * its socket number went to a new connection (say, the one fetching style.css), the late
 * reply cannot land there: mg_wakeup() returns MG_ERR_STALE and the reply is dropped. So a
 * JSON reply is never cached by the browser as somebody else's stylesheet.
 *
 * Prints "listening on URL" once the listener is up. On SIGINT/SIGTERM it stops the
 * background thread, frees the manager and prints
 *
 *   slow: requests=R replies=P stale=S undelivered=U dropped=D failed=F
 *
 * (R = P + S + U + D + F; D: still waiting at shutdown), then "bye", and exits with 0.
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meerkat.h"

#ifndef WEB_ROOT
#define WEB_ROOT "web_root" /* scripts/run-example.sh runs us from c-examples/http-server */
#endif

#define JSON_HEADERS "Content-Type: application/json\r\nCache-Control: no-store\r\n"
#define MAX_SLOW 128   /* /api/slow requests waiting for their reply at once */
#define MAX_ID 64      /* longest ?id= of /api/slow */
#define MAX_SUM_BODY 1024

static struct mg_mgr s_mgr;
static volatile sig_atomic_t s_signo;
static const char *s_root = WEB_ROOT;
static uint64_t s_start_ms;
static unsigned long s_requests; /* HTTP requests seen (loop thread only) */
static unsigned long s_slow_requests, s_slow_replies, s_slow_undelivered, s_slow_unsent;

/* Per-connection state, kept in mg_conn_data() (zeroed when the connection opens). */
struct conn_state {
  int waiting_slow; /* a /api/slow reply for this connection is with the background thread */
};

/* ---- the background thread: replies to /api/slow after a delay ------------------------ */

struct slow_job {
  struct mg_conn c; /* a handle: safe to keep after the client has gone */
  uint64_t due;     /* mg_millis() when the reply is due */
  unsigned delay_ms;
  char id[MAX_ID + 1];
};

/* Shared by the loop thread and the background thread; everything is under mu. */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* on CLOCK_MONOTONIC */
  struct slow_job jobs[MAX_SLOW];
  size_t count;
  int stop;
  unsigned long stale, failed;
} s_slow; /* mu and cv are set up in main() */

static void on_signal(int signo) {
  s_signo = signo;
}

/* Wait on s_slow.cv for at most ms milliseconds (s_slow.mu held). */
static void slow_wait(uint64_t ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += (time_t) (ms / 1000);
  ts.tv_nsec += (long) (ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
  pthread_cond_timedwait(&s_slow.cv, &s_slow.mu, &ts);
}

static void *slow_thread(void *arg) {
  (void) arg;
  pthread_mutex_lock(&s_slow.mu);
  while (!s_slow.stop) {
    size_t i, first = 0;
    uint64_t now = mg_millis();
    if (s_slow.count == 0) {
      pthread_cond_wait(&s_slow.cv, &s_slow.mu);
      continue;
    }
    for (i = 1; i < s_slow.count; i++) {
      if (s_slow.jobs[i].due < s_slow.jobs[first].due) first = i;
    }
    if (s_slow.jobs[first].due > now) {
      slow_wait(s_slow.jobs[first].due - now);
      continue;
    }
    struct slow_job j = s_slow.jobs[first];
    s_slow.jobs[first] = s_slow.jobs[--s_slow.count];
    pthread_mutex_unlock(&s_slow.mu);

    /* The whole reply body is made here; the loop thread only sends it. */
    char body[MAX_ID * 6 + 64];
    size_t n = mg_snprintf(body, sizeof(body), "{%m:%m,%m:%u}", MG_ESC("id"), MG_ESC(j.id),
                           MG_ESC("delay_ms"), j.delay_ms);
    int rc;
    while ((rc = mg_wakeup(&s_mgr, j.c, body, n)) == MG_ERR_FULL) {
      struct timespec ts = {0, 1000000L}; /* the loop's queue is full: retry in 1 ms */
      nanosleep(&ts, NULL);
    }

    pthread_mutex_lock(&s_slow.mu);
    if (rc == MG_ERR_STALE) {
      s_slow.stale++; /* the client left: the reply goes nowhere, never to another client */
    } else if (rc != 0) {
      s_slow.failed++;
      MG_ERROR(("mg_wakeup: %s", mg_strerror(rc)));
    }
  }
  pthread_mutex_unlock(&s_slow.mu);
  return NULL;
}

/* Loop thread: hand a /api/slow request to the background thread. Returns 0 when full. */
static int slow_push(struct mg_conn c, const char *id) {
  int ok = 0;
  unsigned char r = 0;
  mg_random(&r, sizeof(r));
  pthread_mutex_lock(&s_slow.mu);
  if (s_slow.count < MAX_SLOW) {
    struct slow_job *j = &s_slow.jobs[s_slow.count++];
    j->c = c;
    j->delay_ms = 50u + (unsigned) r * 150u / 255u; /* 50..200 ms */
    j->due = mg_millis() + j->delay_ms;
    mg_snprintf(j->id, sizeof(j->id), "%s", id);
    pthread_cond_signal(&s_slow.cv);
    ok = 1;
  }
  pthread_mutex_unlock(&s_slow.mu);
  return ok;
}

/* A reply mg_wakeup() accepted, for a connection that closed before it was delivered. */
static void undelivered(struct mg_conn c, struct mg_str *data, void *arg) {
  (void) c, (void) data, (void) arg;
  s_slow_undelivered++;
}

/* ---- the JSON API -------------------------------------------------------------------- */

static int is_method(const struct mg_http_message *hm, const char *m) {
  return mg_strcmp(hm->method, mg_str(m)) == 0;
}

/* GET, or HEAD (meerkat then sends the headers of the reply without its body). */
static int is_get(const struct mg_http_message *hm) {
  return is_method(hm, "GET") || is_method(hm, "HEAD");
}

/* Parse a whole string as a finite number. */
static int parse_number(const char *s, double *out) {
  char *end = NULL;
  double v;
  if (*s == '\0') return 0;
  v = strtod(s, &end);
  if (end == s || *end != '\0' || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

/* A deliberately small JSON reader: the number after "key": in a flat object. */
static int json_number(const char *json, const char *key, double *out) {
  size_t klen = strlen(key);
  const char *p = json;
  while ((p = strchr(p, '"')) != NULL) {
    const char *q = p + 1;
    if (strncmp(q, key, klen) == 0 && q[klen] == '"') {
      char num[64];
      size_t n = 0;
      q += klen + 1;
      while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n') q++;
      if (*q != ':') return 0;
      q++;
      while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n') q++;
      while (n + 1 < sizeof(num) && q[n] != '\0' && strchr("+-.0123456789eE", q[n]) != NULL) {
        num[n] = q[n];
        n++;
      }
      num[n] = '\0';
      return parse_number(num, out);
    }
    p++;
  }
  return 0;
}

/* POST /api/sum: {"a":1,"b":2} (JSON) or a=1&b=2 (form). */
static void api_sum(struct mg_conn c, struct mg_http_message *hm) {
  struct mg_str *ct = mg_http_get_header(hm, "Content-Type");
  char body[MAX_SUM_BODY + 1];
  double a = 0, b = 0;
  int ok;
  size_t i = 0;

  if (hm->body.len > MAX_SUM_BODY) {
    mg_http_reply(c, 413, JSON_HEADERS, "{%m:%m}", MG_ESC("error"), MG_ESC("body too large"));
    return;
  }
  memcpy(body, hm->body.buf, hm->body.len); /* NUL-terminated copy for strtod */
  body[hm->body.len] = '\0';
  while (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n') i++;
  if ((ct != NULL && mg_match(*ct, mg_str("application/json#"), NULL)) || body[i] == '{') {
    ok = json_number(body, "a", &a) && json_number(body, "b", &b);
  } else {
    char va[64], vb[64];
    ok = mg_http_get_var(&hm->body, "a", va, sizeof(va)) > 0 &&
         mg_http_get_var(&hm->body, "b", vb, sizeof(vb)) > 0 && parse_number(va, &a) &&
         parse_number(vb, &b);
  }
  if (!ok) {
    mg_http_reply(c, 400, JSON_HEADERS, "{%m:%m}", MG_ESC("error"),
                  MG_ESC("expected {\"a\":number,\"b\":number} or a=number&b=number"));
  } else if (!isfinite(a + b)) {
    mg_http_reply(c, 400, JSON_HEADERS, "{%m:%m}", MG_ESC("error"), MG_ESC("overflow"));
  } else {
    mg_http_reply(c, 200, JSON_HEADERS, "{%m:%.17g}", MG_ESC("sum"), a + b);
  }
}

/* GET /api/echo?text=... */
static void api_echo(struct mg_conn c, struct mg_http_message *hm) {
  char text[1024];
  int n = mg_http_get_var(&hm->query, "text", text, sizeof(text));
  if (n == -4 || n == -1) {
    mg_http_reply(c, 400, JSON_HEADERS, "{%m:%m}", MG_ESC("error"), MG_ESC("missing ?text="));
  } else if (n < 0) {
    mg_http_reply(c, 400, JSON_HEADERS, "{%m:%m}", MG_ESC("error"),
                  MG_ESC("bad encoding, or text longer than 1023 bytes"));
  } else {
    /* %m with mg_print_esc and an explicit length (MG_ESC spelled out): a decoded %00 stays
     * part of the text and comes out as \u0000. */
    mg_http_reply(c, 200, JSON_HEADERS, "{%m:%m}", MG_ESC("text"), mg_print_esc, n, text);
  }
}

/* GET /api/slow?id=...: the reply comes later, from the background thread. */
static void api_slow(struct mg_conn c, struct mg_http_message *hm) {
  struct conn_state *cs = (struct conn_state *) mg_conn_data(c);
  char id[MAX_ID + 1];
  int n = mg_http_get_var(&hm->query, "id", id, sizeof(id));
  if (n == -4 || n == -1) {
    mg_snprintf(id, sizeof(id), "%lu", s_requests);
  } else if (n < 0) {
    mg_http_reply(c, 400, JSON_HEADERS, "{%m:%m}", MG_ESC("error"), MG_ESC("bad ?id="));
    return;
  }
  if (cs == NULL || !slow_push(c, id)) {
    mg_http_reply(c, 503, JSON_HEADERS "Retry-After: 1\r\n", "{%m:%m}", MG_ESC("error"),
                  MG_ESC("busy"));
    return;
  }
  cs->waiting_slow = 1; /* nothing else is read from this connection until we reply */
  s_slow_requests++;
}

static void api(struct mg_conn c, struct mg_http_message *hm) {
  if (mg_match(hm->uri, mg_str("/api/stats"), NULL) && is_get(hm)) {
    struct mg_stats st;
    memset(&st, 0, sizeof(st));
    mg_mgr_stats(&s_mgr, &st);
    mg_http_reply(c, 200, JSON_HEADERS, "{%m:%llu,%m:%lu,%m:%u}", MG_ESC("uptime_ms"),
                  (unsigned long long) (mg_millis() - s_start_ms), MG_ESC("requests"),
                  s_requests, MG_ESC("live_conns"), (unsigned) st.live_conns);
  } else if (mg_match(hm->uri, mg_str("/api/echo"), NULL) && is_get(hm)) {
    api_echo(c, hm);
  } else if (mg_match(hm->uri, mg_str("/api/sum"), NULL) && is_method(hm, "POST")) {
    api_sum(c, hm);
  } else if (mg_match(hm->uri, mg_str("/api/slow"), NULL) && is_get(hm)) {
    api_slow(c, hm);
  } else if (mg_match(hm->uri, mg_str("/api/sum"), NULL)) {
    mg_http_reply(c, 405, JSON_HEADERS "Allow: POST\r\n", "{%m:%m}", MG_ESC("error"),
                  MG_ESC("method not allowed"));
  } else if (mg_match(hm->uri, mg_str("/api/stats"), NULL) ||
             mg_match(hm->uri, mg_str("/api/echo"), NULL) ||
             mg_match(hm->uri, mg_str("/api/slow"), NULL)) {
    mg_http_reply(c, 405, JSON_HEADERS "Allow: GET, HEAD\r\n", "{%m:%m}", MG_ESC("error"),
                  MG_ESC("method not allowed"));
  } else {
    mg_http_reply(c, 404, JSON_HEADERS, "{%m:%m}", MG_ESC("error"), MG_ESC("not found"));
  }
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    s_requests++;
    if (mg_match(hm->uri, mg_str("/api"), NULL) || mg_match(hm->uri, mg_str("/api/#"), NULL)) {
      api(c, hm);
    } else {
      struct mg_http_serve_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.root_dir = s_root;
      int rc = mg_http_serve_dir(c, hm, &opts);
      if (rc < 0) MG_ERROR(("serve %.*s: %s", (int) hm->uri.len, hm->uri.buf, mg_strerror(rc)));
    }
  } else if (ev == MG_EV_WAKEUP) {
    /* The background thread's reply to this very connection's /api/slow request. */
    struct mg_str *body = (struct mg_str *) ev_data; /* valid until we return */
    struct conn_state *cs = (struct conn_state *) mg_conn_data(c);
    if (cs != NULL && cs->waiting_slow) {
      cs->waiting_slow = 0;
      if (mg_http_reply(c, 200, JSON_HEADERS, "%.*s", (int) body->len, body->buf) == 0) {
        s_slow_replies++;
      } else {
        s_slow_unsent++; /* the connection is closing */
      }
    }
  }
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "http://0.0.0.0:8000";
  pthread_t thread;
  pthread_condattr_t ca;
  sigset_t sigs, old;
  struct sigaction sa;

  if (argc > 2) s_root = argv[2];
  mg_log_set(MG_LL_ERROR);
  if (mg_mgr_init(&s_mgr) != 0) {
    fprintf(stderr, "mg_mgr_init failed\n");
    return 1;
  }
  s_start_ms = mg_millis();
  mg_mgr_set_undelivered_fn(&s_mgr, undelivered, NULL);
  if (mg_http_listen(&s_mgr, url, fn, NULL).h == 0) {
    fprintf(stderr, "cannot listen on %s: %s\n", url, mg_strerror(mg_last_error()));
    mg_mgr_free(&s_mgr);
    return 1;
  }

  /* The background thread blocks SIGINT/SIGTERM, so a signal lands on the loop thread and
   * interrupts its wait in mg_mgr_poll. */
  pthread_mutex_init(&s_slow.mu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&s_slow.cv, &ca);
  pthread_condattr_destroy(&ca);
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, &old);
  if (pthread_create(&thread, NULL, slow_thread, NULL) != 0) {
    fprintf(stderr, "pthread_create failed\n");
    mg_mgr_free(&s_mgr);
    return 1;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  printf("listening on %s\n", url);
  printf("serving %s\n", s_root);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&s_mgr, 1000);

  /* Stop the background thread first (pending replies are dropped), then free the
   * manager: no mg_wakeup can race mg_mgr_free. */
  pthread_mutex_lock(&s_slow.mu);
  s_slow.stop = 1;
  pthread_cond_signal(&s_slow.cv);
  pthread_mutex_unlock(&s_slow.mu);
  pthread_join(thread, NULL);
  if (mg_mgr_free(&s_mgr) != 0) return 1;
  pthread_cond_destroy(&s_slow.cv);
  pthread_mutex_destroy(&s_slow.mu);

  printf("slow: requests=%lu replies=%lu stale=%lu undelivered=%lu dropped=%lu failed=%lu\n",
         s_slow_requests, s_slow_replies, s_slow.stale, s_slow_undelivered,
         (unsigned long) s_slow.count, s_slow.failed + s_slow_unsent);
  printf("bye\n");
  return 0;
}
