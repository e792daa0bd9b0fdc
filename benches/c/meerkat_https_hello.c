/*
 * meerkat_https_hello.c: the meerkat side of benches/tls.rs, a minimal HTTPS server written
 * against the public API the way firmware ported from Mongoose would be.
 *
 * usage: meerkat_https_hello URL CERT_PEM KEY_PEM [max_seconds]
 *   URL is https://127.0.0.1:PORT; every request gets 200 "hello\n" (text/plain).
 * TLS is set up once on the listener (mg_tls_init right after mg_http_listen), so it applies
 * to every accepted connection. Prints "ready" on stdout once listening, then serves until
 * killed (or max_seconds pass: alarm()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meerkat.h"

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    (void) ev_data;
    mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "hello\n");
  }
}

/* The whole file at `path`, malloc-ed (never freed: read once at start). */
static struct mg_str slurp(const char *path) {
  struct mg_str s = {NULL, 0};
  FILE *f = fopen(path, "rb");
  if (f == NULL) return s;
  char *buf = NULL;
  size_t cap = 0, len = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 4096;
      char *nb = realloc(buf, cap);
      if (nb == NULL) {
        free(buf);
        fclose(f);
        return s;
      }
      buf = nb;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    if (n == 0) break;
    len += n;
  }
  fclose(f);
  s.buf = buf;
  s.len = len;
  return s;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s URL CERT_PEM KEY_PEM [max_seconds]\n", argv[0]);
    return 2;
  }
  alarm(argc > 4 ? (unsigned) atoi(argv[4]) : 600);
  struct mg_tls_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.cert = slurp(argv[2]);
  opts.key = slurp(argv[3]);
  if (opts.cert.len == 0 || opts.key.len == 0) {
    fprintf(stderr, "meerkat_https_hello: cannot read %s or %s\n", argv[2], argv[3]);
    return 1;
  }
  struct mg_mgr mgr;
  if (mg_mgr_init(&mgr) != 0) return 1;
  struct mg_conn l = mg_http_listen(&mgr, argv[1], fn, NULL);
  if (l.h == 0) {
    fprintf(stderr, "meerkat_https_hello: listen %s: %s\n", argv[1], mg_strerror(mg_last_error()));
    return 1;
  }
  int rc = mg_tls_init(l, &opts);
  if (rc != 0) {
    fprintf(stderr, "meerkat_https_hello: mg_tls_init: %s\n", mg_strerror(rc));
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) mg_mgr_poll(&mgr, 1000);
}
