/*
 * websocket-server: a WebSocket echo server with a page that uses it.
 *
 *   ./websocket-server [URL] [WEB_ROOT] [CERT.pem:KEY.pem]
 *
 * Defaults: http://0.0.0.0:8000, web_root. An https:// URL serves the page and the
 * WebSocket over TLS (wss://) with CERT.pem:KEY.pem, by default the FOR-TESTING-ONLY pair of
 * ../https-server (run from this directory).
 *
 * GET /websocket is upgraded to a WebSocket (mg_ws_upgrade): every message comes back with
 * its opcode. A worker thread pushes {"time": <ms since the epoch>} as text to every
 * connected WebSocket once a second, with mg_ws_wakeup_all(): the one thread-safe call that
 * reaches them all, framed on the loop thread, never to a closed or reused connection.
 * Everything else is a file from WEB_ROOT (index.html opens the WebSocket, echoes what you
 * type and shows the pushed time). Prints "listening on URL", logs each WebSocket opened and
 * closed, and stops cleanly on SIGINT or SIGTERM (the worker is joined, every connection gets
 * its MG_EV_CLOSE, then "bye", exit 0).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meerkat.h"

static volatile sig_atomic_t s_signo;
static volatile int s_stop;
static const char *s_root = "web_root";
static struct mg_mgr s_mgr;
static unsigned long s_opened, s_closed, s_echoed, s_pushed;

static void on_signal(int signo) {
  s_signo = signo;
}

/* Read a whole file into a malloc'ed buffer. Returns 0 and fills *out, or -1. */
static int read_file(const char *path, struct mg_str *out) {
  FILE *fp = fopen(path, "rb");
  char *buf = NULL;
  long size;
  if (fp == NULL) return -1;
  if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0 ||
      (buf = (char *) malloc((size_t) size + 1)) == NULL ||
      fread(buf, 1, (size_t) size, fp) != (size_t) size) {
    free(buf);
    fclose(fp);
    return -1;
  }
  fclose(fp);
  buf[size] = '\0';
  out->buf = buf;
  out->len = (size_t) size;
  return 0;
}

static int is_websocket(struct mg_conn c) {
  struct mg_conn_info ci; /* Mongoose: c->is_websocket */
  return mg_conn_info(c, &ci) == 0 && ci.is_websocket;
}

/* The worker: once a second, the wall-clock time to every WebSocket. mg_ws_wakeup_all()
 * may be called from any thread; it returns how many WebSockets it queued the message for. */
static void *pusher(void *arg) {
  (void) arg;
  while (!s_stop) {
    struct timespec ts, nap = {0, 50 * 1000000L};
    char msg[64];
    int i, n;
    clock_gettime(CLOCK_REALTIME, &ts);
    n = snprintf(msg, sizeof(msg), "{\"time\":%llu}",
                 (unsigned long long) ts.tv_sec * 1000ULL + (unsigned long long) (ts.tv_nsec / 1000000));
    n = mg_ws_wakeup_all(&s_mgr, msg, (size_t) n, WEBSOCKET_OP_TEXT);
    if (n > 0) s_pushed += (unsigned long) n;
    for (i = 0; i < 20 && !s_stop; i++) nanosleep(&nap, NULL);
  }
  return NULL;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_match(hm->uri, mg_str("/websocket"), NULL)) {
      mg_ws_upgrade(c, hm, NULL); /* answers 400/426 itself when it is not an upgrade */
    } else {
      struct mg_http_serve_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.root_dir = s_root;
      mg_http_serve_dir(c, hm, &opts);
    }
  } else if (ev == MG_EV_WS_OPEN) {
    s_opened++;
    MG_INFO(("conn %llu: WebSocket open", (unsigned long long) mg_conn_id(c)));
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    if (mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 0x0f) >= 0) s_echoed++;
  } else if (ev == MG_EV_CLOSE && is_websocket(c)) {
    s_closed++;
    MG_INFO(("conn %llu: WebSocket closed", (unsigned long long) mg_conn_id(c)));
  }
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "http://0.0.0.0:8000";
  struct mg_conn lc;
  struct sigaction sa;
  sigset_t sigs, old;
  pthread_t worker;
  if (argc > 2) s_root = argv[2];
  mg_log_set(MG_LL_INFO);
  if (mg_mgr_init(&s_mgr) != 0) return 1;
  lc = mg_http_listen(&s_mgr, url, fn, NULL);
  if (lc.h == 0) {
    fprintf(stderr, "cannot listen on %s: %s\n", url, mg_strerror(mg_last_error()));
    mg_mgr_free(&s_mgr);
    return 1;
  }
  if (strncmp(url, "https:", 6) == 0) {
    const char *pair = argc > 3 ? argv[3] : "../https-server/test-cert.pem:../https-server/test-key.pem";
    const char *colon = strchr(pair, ':');
    char cert[1024];
    struct mg_tls_opts opts;
    int rc;
    memset(&opts, 0, sizeof(opts));
    if (argc <= 3) fprintf(stderr, "WARNING: using the FOR-TESTING-ONLY certificate of ../https-server\n");
    mg_snprintf(cert, sizeof(cert), "%.*s", colon == NULL ? 0 : (int) (colon - pair), pair);
    if (colon == NULL || read_file(cert, &opts.cert) != 0 || read_file(colon + 1, &opts.key) != 0) {
      fprintf(stderr, "cannot read the certificate and key %s\n", pair);
      free((void *) opts.cert.buf);
      mg_mgr_free(&s_mgr);
      return 1;
    }
    rc = mg_tls_init(lc, &opts); /* every accepted connection speaks TLS */
    free((void *) opts.cert.buf);
    free((void *) opts.key.buf);
    if (rc != 0) {
      fprintf(stderr, "mg_tls_init: %s\n", mg_strerror(rc));
      mg_mgr_free(&s_mgr);
      return 1;
    }
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  /* The worker blocks the signals, so they interrupt the loop's wait in mg_mgr_poll. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, &old);
  if (pthread_create(&worker, NULL, pusher, NULL) != 0) {
    fprintf(stderr, "cannot start the worker thread\n");
    mg_mgr_free(&s_mgr);
    return 1;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  printf("listening on %s\n", url);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&s_mgr, 1000);
  s_stop = 1;
  pthread_join(worker, NULL);
  mg_mgr_free(&s_mgr);
  printf("websockets opened=%lu closed=%lu echoed=%lu pushed=%lu\n", s_opened, s_closed, s_echoed, s_pushed);
  printf("bye\n");
  return 0;
}
