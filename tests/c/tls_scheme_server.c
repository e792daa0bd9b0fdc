/*
 * A server ported from Mongoose by docs/porting.md: TLS is set up the Mongoose way, in
 * MG_EV_ACCEPT when the connection's URL asked for it (`c->is_tls` there, `mg_conn_info`
 * here). SIGPIPE is left alone: no signal() call anywhere, as in most firmware ports.
 *
 *   tls_scheme_server HTTP_URL HTTPS_URL CERT.pem KEY.pem ROOT [forget]
 *
 * With "forget" the handler never calls mg_tls_init (the bug the library must catch).
 * Prints "sigpipe default=D blocked=B", "listening on URL" for each listener, then for every
 * accepted connection "ev ID accept tls=T", "ev ID error MSG", "ev ID http", "ev ID close".
 *   GET /stats   {"live":N}  (live connections, listeners included)
 *   anything else            a file from ROOT (mg_http_serve_dir)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meerkat.h"

static struct mg_mgr s_mgr;
static struct mg_str s_cert, s_key;
static const char *s_root;
static int s_forget;

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
  out->buf = buf;
  out->len = (size_t) size;
  return 0;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  unsigned long long id = (unsigned long long) mg_conn_id(c);
  struct mg_conn_info i;
  if (mg_conn_info(c, &i) != 0 || i.is_listening) return;
  if (ev == MG_EV_ACCEPT) {
    printf("ev %llu accept tls=%d\n", id, i.is_tls ? 1 : 0);
    if (i.is_tls && !s_forget) {
      struct mg_tls_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.cert = s_cert;
      opts.key = s_key;
      mg_tls_init(c, &opts);
    }
  } else if (ev == MG_EV_ERROR) {
    printf("ev %llu error %s\n", id, (const char *) ev_data);
  } else if (ev == MG_EV_CLOSE) {
    printf("ev %llu close\n", id);
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    printf("ev %llu http\n", id);
    if (mg_match(hm->uri, mg_str("/stats"), NULL)) {
      struct mg_stats st;
      mg_mgr_stats(&s_mgr, &st);
      mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{\"live\":%u}\n",
                    (unsigned) st.live_conns);
    } else {
      struct mg_http_serve_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.root_dir = s_root;
      mg_http_serve_dir(c, hm, &opts);
    }
  }
  fflush(stdout);
}

int main(int argc, char *argv[]) {
  struct sigaction sa;
  sigset_t mask;
  if (argc < 6) return 2;
  s_root = argv[5];
  s_forget = argc > 6 && strcmp(argv[6], "forget") == 0;
  if (read_file(argv[3], &s_cert) != 0 || read_file(argv[4], &s_key) != 0) return 3;
  /* Only look: the test checks that SIGPIPE is at the default a C program starts with. */
  sigaction(SIGPIPE, NULL, &sa);
  sigprocmask(SIG_BLOCK, NULL, &mask);
  printf("sigpipe default=%d blocked=%d\n", sa.sa_handler == SIG_DFL ? 1 : 0,
         sigismember(&mask, SIGPIPE));
  mg_log_set(MG_LL_ERROR);
  if (mg_mgr_init(&s_mgr) != 0) return 4;
  if (mg_http_listen(&s_mgr, argv[1], fn, NULL).h == 0) return 5;
  printf("listening on %s\n", argv[1]);
  if (mg_http_listen(&s_mgr, argv[2], fn, NULL).h == 0) return 5;
  printf("listening on %s\n", argv[2]);
  fflush(stdout);
  for (;;) mg_mgr_poll(&s_mgr, 50);
  return 0;
}
