/*
 * mongoose_https_hello.c: benches/c/meerkat_https_hello.c written against Cesanta Mongoose
 * 7.x's own API, for the TLS size comparison in benches/size.rs (built with Mongoose's own
 * TLS, -DMG_TLS=MG_TLS_BUILTIN, from a checkout the user gives; Mongoose is not part of this
 * repository).
 *
 * usage: mongoose_https_hello URL CERT_PEM KEY_PEM [max_seconds]
 *   every request gets 200 "hello\n" (text/plain); TLS is set up on each accepted connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mongoose.h"

static struct mg_tls_opts s_tls;

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_ACCEPT) {
    mg_tls_init(c, &s_tls);
  } else if (ev == MG_EV_HTTP_MSG) {
    (void) ev_data;
    mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "hello\n");
  }
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s URL CERT_PEM KEY_PEM [max_seconds]\n", argv[0]);
    return 2;
  }
  alarm(argc > 4 ? (unsigned) atoi(argv[4]) : 600);
  s_tls.cert = mg_file_read(&mg_fs_posix, argv[2]);
  s_tls.key = mg_file_read(&mg_fs_posix, argv[3]);
  if (s_tls.cert.len == 0 || s_tls.key.len == 0) {
    fprintf(stderr, "mongoose_https_hello: cannot read %s or %s\n", argv[2], argv[3]);
    return 1;
  }
  mg_log_set(MG_LL_ERROR);
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  if (mg_http_listen(&mgr, argv[1], fn, NULL) == NULL) {
    fprintf(stderr, "mongoose_https_hello: listen %s failed\n", argv[1]);
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) mg_mgr_poll(&mgr, 1000);
}
