/*
 * A server ported from Mongoose by docs/porting.md alone, the way firmware is written: one
 * handler for an http:// and an https:// listener, TLS set up on MG_EV_ACCEPT when the
 * connection says it is a TLS one (Mongoose's `if (c->is_tls) mg_tls_init(c, &opts)`), and
 * SIGPIPE left at whatever the program was started with (a C program's default: terminate).
 * Nothing in here knows meerkat's internals.
 *
 *   porting_user HTTP_URL HTTPS_URL CERT.pem KEY.pem WEB_ROOT
 *
 *   GET /api/hello   200 "hello"
 *   POST /api/echo   200 with the body's length
 *   anything else    a file from WEB_ROOT
 *
 * Prints "listening on HTTP_URL" once both listeners are up, then polls for ever.
 */
#include "mongoose.h"

static struct mg_tls_opts s_tls;
static const char *s_root;

/* The whole file as an mg_str (malloc'ed, never freed: it lives as long as the program). */
static struct mg_str load(const char *path) {
  struct mg_str s = {NULL, 0};
  FILE *fp = fopen(path, "rb");
  long n;
  if (fp == NULL) return s;
  if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 && fseek(fp, 0, SEEK_SET) == 0) {
    char *buf = (char *) malloc((size_t) n);
    if (buf != NULL && fread(buf, 1, (size_t) n, fp) == (size_t) n) {
      s.buf = buf;
      s.len = (size_t) n;
    } else {
      free(buf);
    }
  }
  fclose(fp);
  return s;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_ACCEPT) {
    struct mg_conn_info i; /* Mongoose: c->is_tls */
    if (mg_conn_info(c, &i) == 0 && i.is_tls) mg_tls_init(c, &s_tls);
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_match(hm->uri, mg_str("/api/hello"), NULL)) {
      mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "hello\n");
    } else if (mg_match(hm->uri, mg_str("/api/echo"), NULL)) {
      mg_http_reply(c, 200, "", "%lu\n", (unsigned long) hm->body.len);
    } else {
      struct mg_http_serve_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.root_dir = s_root;
      mg_http_serve_dir(c, hm, &opts);
    }
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  if (argc != 6) {
    fprintf(stderr, "usage: %s HTTP_URL HTTPS_URL CERT KEY WEB_ROOT\n", argv[0]);
    return 2;
  }
  s_tls.cert = load(argv[3]);
  s_tls.key = load(argv[4]);
  s_root = argv[5];
  if (s_tls.cert.len == 0 || s_tls.key.len == 0) {
    fprintf(stderr, "cannot read %s or %s\n", argv[3], argv[4]);
    return 1;
  }
  mg_mgr_init(&mgr);
  if (mg_http_listen(&mgr, argv[1], fn, NULL).h == 0 || mg_http_listen(&mgr, argv[2], fn, NULL).h == 0) {
    fprintf(stderr, "cannot listen\n");
    return 1;
  }
  printf("listening on %s\n", argv[1]);
  fflush(stdout);
  for (;;) mg_mgr_poll(&mgr, 1000);
  return 0;
}
