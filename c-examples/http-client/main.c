/*
 * http-client: fetch one URL with GET and print the response.
 *
 *   ./http-client [URL [TIMEOUT_MS]]   defaults: http://127.0.0.1:8000/api/stats, 5000
 *
 * Prints the status line's code, the number of response headers and the body:
 *
 *   status: 200
 *   headers: 4
 *
 *   {"uptime_ms":1234,"requests":5,"live_conns":2}
 *
 * Exit status: 0 for a 2xx response, 1 for any other status or when the connection fails
 * (the reason goes to stderr), 2 when no complete response came within TIMEOUT_MS, 130/143
 * on SIGINT/SIGTERM. Plain http:// only (for https:// see mg_tls_init in meerkat.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meerkat.h"

static volatile sig_atomic_t s_signo;
static const char *s_url;
static int s_done;      /* the loop runs until this is set */
static int s_exit_code; /* valid once s_done is set */

static void on_signal(int signo) {
  s_signo = signo;
}

static void finish(int code) {
  if (!s_done) {
    s_done = 1;
    s_exit_code = code;
  }
}

static void on_timeout(void *arg) {
  (void) arg;
  if (!s_done) fprintf(stderr, "timed out: no complete response from %s\n", s_url);
  finish(2);
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_CONNECT) {
    /* Send the request. Host: is the URL's host with its port, as the URL wrote it. */
    struct mg_str host = mg_url_host(s_url);
    unsigned short port = mg_url_port(s_url);
    int rc = mg_printf(c,
                       "GET %s HTTP/1.1\r\n"
                       "Host: %.*s:%u\r\n"
                       "User-Agent: meerkat-http-client\r\n"
                       "Accept: */*\r\n"
                       "Connection: close\r\n"
                       "\r\n",
                       mg_url_uri(s_url), (int) host.len, host.buf, (unsigned) port);
    if (rc < 0) {
      fprintf(stderr, "send: %s\n", mg_strerror(rc));
      mg_close(c);
    }
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    int status = mg_http_status(hm);
    printf("status: %d\n", status);
    printf("headers: %lu\n\n", (unsigned long) hm->num_headers);
    fwrite(hm->body.buf, 1, hm->body.len, stdout);
    if (hm->body.len > 0 && hm->body.buf[hm->body.len - 1] != '\n') putchar('\n');
    fflush(stdout);
    finish(status >= 200 && status < 300 ? 0 : 1);
    mg_close(c);
  } else if (ev == MG_EV_ERROR) {
    fprintf(stderr, "error: %s\n", (const char *) ev_data);
  } else if (ev == MG_EV_CLOSE) {
    if (!s_done) fprintf(stderr, "connection closed before a complete response\n");
    finish(1);
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct sigaction sa;
  long timeout_ms = argc > 2 ? strtol(argv[2], NULL, 10) : 5000;

  s_url = argc > 1 ? argv[1] : "http://127.0.0.1:8000/api/stats";
  if (timeout_ms <= 0) timeout_ms = 5000;
  if (mg_url_is_ssl(s_url)) {
    fprintf(stderr, "%s: this example speaks plain http:// only\n", s_url);
    return 1;
  }
  if (mg_mgr_init(&mgr) != 0) {
    fprintf(stderr, "mg_mgr_init failed\n");
    return 1;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  if (mg_timer_add(&mgr, (uint64_t) timeout_ms, MG_TIMER_ONCE, on_timeout, NULL).h == 0 ||
      mg_http_connect(&mgr, s_url, fn, NULL).h == 0) {
    fprintf(stderr, "cannot fetch %s: %s\n", s_url, mg_strerror(mg_last_error()));
    mg_mgr_free(&mgr);
    return 1;
  }
  while (!s_done && s_signo == 0) mg_mgr_poll(&mgr, 100);

  if (mg_mgr_free(&mgr) != 0) return 1; /* closes the connection if it is still open */
  if (s_signo != 0) return 128 + (int) s_signo;
  return s_exit_code;
}
