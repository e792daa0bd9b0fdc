/*
 * The audio-server scenario of issue 10, written as a porting user would write it with
 * Mongoose's names (through mongoose.h, default SIGPIPE handling):
 *
 *   ./ws_audio_server URL SECONDS
 *
 * Browsers open ws://HOST/ws?id=N. A client that sends "hello N" is streamed to: for SECONDS
 * seconds, WORKERS threads pick a random greeted session and send it one binary "audio chunk"
 * by handle with mg_ws_wakeup(); worker 0 also broadcasts a chunk to every WebSocket with
 * mg_ws_wakeup_all() now and then. Every chunk names its recipient ("to=N seq=S len=L\n",
 * then L pattern bytes that depend on N and S), so the client can tell a misdelivered or torn
 * one. Sessions are freed in MG_EV_CLOSE; chunks that meerkat accepted but could not send go
 * to the undelivered callback and are counted per recipient. When the stream stops, every
 * session still open gets "end id=N accepted=A undelivered=U" on the loop thread, after
 * everything queued for it: a client that stayed must have received exactly A - U chunks.
 *
 * Prints "listening on URL", then "stream done ..." when the workers stopped; on SIGTERM
 * waits (bounded) for the clients to be gone, prints
 * "accepted=A bcast=B delivered=D undelivered=U callback=C stale=S full=F live_start=L0 live=L",
 * frees the manager and prints "bye".
 */
#include "mongoose.h"

#include <pthread.h>
#include <time.h>

#define WORKERS 4
#define MAX_SESSIONS 1024
#define MAX_IDS 4096
#define MAX_CHUNK 4096

struct session {
  struct mg_conn c; /* .h == 0: free */
  unsigned id;
  int ready;          /* said hello */
  unsigned long seq;  /* of the last chunk sent to it */
};

static struct mg_mgr s_mgr;
static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static struct session s_sessions[MAX_SESSIONS];
/* Per recipient id: chunks mg_ws_wakeup accepted (workers, under s_mu) and chunks handed
 * back undelivered (loop thread, under s_mu too: workers read nothing of it). */
static unsigned long s_accepted[MAX_IDS], s_undelivered[MAX_IDS];
static unsigned long s_total_accepted, s_bcast_accepted, s_stale, s_full, s_callback;
static unsigned long s_bcast_seq;
static volatile int s_stop;
static volatile sig_atomic_t s_signo;

static void on_signal(int signo) {
  s_signo = signo;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static size_t chunk(char *buf, const char *who, unsigned long seq, size_t len, unsigned id) {
  int n = snprintf(buf, 64, "%s seq=%lu len=%lu\n", who, seq, (unsigned long) len);
  size_t i;
  for (i = 0; i < len; i++) buf[n + i] = (char) ((id * 31u + seq * 7u + i) & 0xff);
  return (size_t) n + len;
}

static void *worker(void *arg) {
  unsigned rnd = (unsigned) (size_t) arg * 7919u + 1;
  unsigned long round = 0;
  static char bufs[WORKERS][MAX_CHUNK + 64];
  char *buf = bufs[(size_t) arg];
  while (!s_stop) {
    size_t len = 256 + (size_t) (rand_r(&rnd) % (MAX_CHUNK - 256));
    int k = rand_r(&rnd) % MAX_SESSIONS, i;
    pthread_mutex_lock(&s_mu);
    for (i = 0; i < MAX_SESSIONS; i++) {
      struct session *s = &s_sessions[(k + i) % MAX_SESSIONS];
      if (s->c.h != 0 && s->ready) {
        char who[32];
        size_t n;
        int rc;
        snprintf(who, sizeof(who), "to=%u", s->id);
        n = chunk(buf, who, s->seq + 1, len, s->id);
        rc = mg_ws_wakeup(&s_mgr, s->c, buf, n, WEBSOCKET_OP_BINARY);
        if (rc == 0) {
          s->seq++;
          s_accepted[s->id]++;
          s_total_accepted++;
        } else if (rc == MG_ERR_STALE) {
          s_stale++; /* closed; MG_EV_CLOSE will free the session */
        } else if (rc == MG_ERR_FULL) {
          s_full++;
        } else {
          MG_ERROR(("mg_ws_wakeup: %s", mg_strerror(rc)));
        }
        break;
      }
    }
    if ((size_t) arg == 0 && ++round % 64 == 0) {
      size_t n = chunk(buf, "all", ++s_bcast_seq, 512, 0);
      int rc = mg_ws_wakeup_all(&s_mgr, buf, n, WEBSOCKET_OP_BINARY);
      if (rc >= 0) s_bcast_accepted += (unsigned long) rc;
    }
    pthread_mutex_unlock(&s_mu);
    sleep_ms(1);
  }
  return NULL;
}

static void undelivered(struct mg_conn c, struct mg_str *data, void *arg) {
  unsigned id;
  (void) c, (void) arg;
  pthread_mutex_lock(&s_mu);
  s_callback++;
  if (data->len > 3 && memcmp(data->buf, "to=", 3) == 0 && sscanf(data->buf + 3, "%u", &id) == 1 &&
      id < MAX_IDS) {
    s_undelivered[id]++;
  }
  pthread_mutex_unlock(&s_mu);
}

static struct session **slot_of(struct mg_conn c) {
  return (struct session **) mg_conn_data(c);
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    mg_ws_upgrade(c, (struct mg_http_message *) ev_data, NULL);
  } else if (ev == MG_EV_WS_OPEN) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    char idbuf[16];
    int i;
    unsigned id;
    if (mg_http_get_var(&hm->query, "id", idbuf, sizeof(idbuf)) <= 0 || sscanf(idbuf, "%u", &id) != 1 ||
        id >= MAX_IDS) {
      mg_close(c);
      return;
    }
    pthread_mutex_lock(&s_mu);
    for (i = 0; i < MAX_SESSIONS; i++) {
      if (s_sessions[i].c.h == 0) {
        s_sessions[i].c = c;
        s_sessions[i].id = id;
        s_sessions[i].ready = 0;
        s_sessions[i].seq = 0;
        *slot_of(c) = &s_sessions[i];
        break;
      }
    }
    pthread_mutex_unlock(&s_mu);
    if (i == MAX_SESSIONS) mg_close(c);
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    struct session *s = *slot_of(c);
    unsigned id;
    if (s != NULL && wm->data.len > 6 && memcmp(wm->data.buf, "hello ", 6) == 0 &&
        sscanf(wm->data.buf + 6, "%u", &id) == 1) {
      pthread_mutex_lock(&s_mu);
      if (id == s->id) s->ready = 1;
      pthread_mutex_unlock(&s_mu);
    }
  } else if (ev == MG_EV_CLOSE) {
    struct session *s = *slot_of(c);
    if (s != NULL) {
      pthread_mutex_lock(&s_mu);
      memset(s, 0, sizeof(*s));
      pthread_mutex_unlock(&s_mu);
    }
  }
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "http://127.0.0.1:8000";
  long seconds = argc > 2 ? atol(argv[2]) : 5;
  pthread_t workers[WORKERS];
  struct mg_limits l;
  struct mg_stats st;
  struct sigaction sa;
  sigset_t sigs, old;
  uint64_t start, deadline;
  unsigned live_start;
  size_t i;

  if (mg_mgr_init(&s_mgr) != 0) return 1;
  /* Small per-client send buffers, as on a device: a client that stops reading soon has
   * its chunks refused (and reported undelivered) instead of buffered. */
  mg_mgr_get_limits(&s_mgr, &l);
  l.max_send = 16 * 1024;
  if (mg_mgr_set_limits(&s_mgr, &l) != 0) return 1;
  mg_mgr_set_undelivered_fn(&s_mgr, undelivered, NULL);
  if (mg_http_listen(&s_mgr, url, fn, NULL).h == 0) {
    fprintf(stderr, "cannot listen on %s\n", url);
    return 1;
  }
  mg_mgr_stats(&s_mgr, &st);
  live_start = st.live_conns;

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, &old);
  for (i = 0; i < WORKERS; i++) pthread_create(&workers[i], NULL, worker, (void *) i);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  printf("listening on %s\n", url);
  fflush(stdout);

  start = mg_millis();
  while (s_signo == 0 && mg_millis() - start < (uint64_t) seconds * 1000) mg_mgr_poll(&s_mgr, 50);
  s_stop = 1;
  for (i = 0; i < WORKERS; i++) pthread_join(workers[i], NULL);
  /* Deliver (or hand back) what the workers queued last, then close every stream. */
  for (i = 0; i < 3; i++) mg_mgr_poll(&s_mgr, 0);
  pthread_mutex_lock(&s_mu);
  for (i = 0; i < MAX_SESSIONS; i++) {
    struct session *s = &s_sessions[i];
    if (s->c.h != 0) {
      char end[96];
      int n = snprintf(end, sizeof(end), "end id=%u accepted=%lu undelivered=%lu", s->id, s_accepted[s->id],
                       s_undelivered[s->id]);
      mg_ws_send(s->c, end, (size_t) n, WEBSOCKET_OP_TEXT);
    }
  }
  pthread_mutex_unlock(&s_mu);
  printf("stream done: accepted=%lu in %ld s\n", s_total_accepted, seconds);
  fflush(stdout);

  while (s_signo == 0) mg_mgr_poll(&s_mgr, 50);
  /* The clients are gone: let the server notice every FIN and RST (bounded). */
  deadline = mg_millis() + 5000;
  do {
    mg_mgr_poll(&s_mgr, 20);
    mg_mgr_stats(&s_mgr, &st);
  } while (st.live_conns != live_start && mg_millis() < deadline);
  printf("accepted=%lu bcast=%lu delivered=%llu undelivered=%llu callback=%lu stale=%lu full=%lu "
         "live_start=%u live=%u\n",
         s_total_accepted, s_bcast_accepted, (unsigned long long) st.wakeups_delivered,
         (unsigned long long) st.wakeups_undelivered, s_callback, s_stale, s_full, live_start, st.live_conns);
  mg_mgr_free(&s_mgr);
  printf("bye\n");
  return 0;
}
